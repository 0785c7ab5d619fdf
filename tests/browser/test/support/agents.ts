import { randomUUID } from "node:crypto";
import { buildEnvelope, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { encodePayloadJson } from "@macp/protocol";

export const DECISION_MODE = "macp.mode.decision.v1";

/** Simulated participants of one session, speaking straight to the runtime (development auth). */
export class Agents {
  private readonly clients = new Map<string, MacpClient>();

  constructor(
    private readonly runtimeAddress: string,
    private readonly mode: string,
  ) {}

  /** Sends `messageType` as `sender` and fails unless the runtime accepted it. */
  async send(sender: string, sessionId: string, messageType: string, json: Record<string, unknown>): Promise<void> {
    let client = this.clients.get(sender);
    if (client === undefined) {
      client = createMacpClient({ address: this.runtimeAddress, auth: { bearer: sender }, defaultDeadlineMs: 20_000 });
      this.clients.set(sender, client);
    }
    const payload = encodePayloadJson(this.mode, messageType, json);
    const { ack } = await client.send({ envelope: buildEnvelope({ mode: this.mode, sessionId, messageType, messageId: randomUUID(), payload }) });
    if (!ack?.ok) throw new Error(`${sender}'s ${messageType} was refused: ${ack?.error?.code} ${ack?.error?.message}`);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

/** The Commitment that closes a decision session bound to policy.default. */
export function commitment(action: string): Record<string, unknown> {
  return {
    commitment_id: randomUUID(),
    action,
    authority_scope: "browser-test",
    reason: "bob approved",
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    policy_version: "policy.default",
    outcome_positive: true,
  };
}
