import { randomUUID } from "node:crypto";
import { buildEnvelope } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { encodePayloadJson } from "@macp/protocol";

/** An envelope a simulated agent sends: the payload given as the mode's JSON form, a fresh message id. */
export function modeMessage(mode: string, sessionId: string, messageType: string, json: Record<string, unknown>): ReturnType<typeof buildEnvelope> {
  return buildEnvelope({ mode, sessionId, messageType, messageId: randomUUID(), payload: encodePayloadJson(mode, messageType, json) });
}

/** The Commitment that ends a test session bound to policy.default. */
export function commitmentMessage(mode: string, sessionId: string, action: string): ReturnType<typeof buildEnvelope> {
  return modeMessage(mode, sessionId, "Commitment", {
    commitment_id: "c1",
    action,
    authority_scope: "test",
    reason: "agreed",
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    policy_version: "policy.default",
    outcome_positive: true,
  });
}

/** Sends an envelope and fails the test unless the runtime accepted it. */
export async function sendAccepted(client: MacpClient, envelope: ReturnType<typeof buildEnvelope>): Promise<void> {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType} refused: ${ack?.error?.code} ${ack?.error?.message}`);
}
