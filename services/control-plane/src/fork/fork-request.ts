import type { Envelope } from "@macp/protocol";
import { decodeSessionStart } from "@macp/protocol";
import type { FieldIssue } from "../http/errors.js";
import type { RunRequest } from "../runs/request-schema.js";

/** Overrides a fork may set on top of the original run. */
export interface ForkOverrides {
  readonly atSeq: number;
  readonly tags?: readonly string[];
  readonly ttlMs?: number;
}

/** Most accepted envelopes a fork re-sends. */
export const FORK_MAX_MESSAGES = 1000;

/** A fork as a run request, or why it cannot be one. */
export type ForkPlan = { readonly ok: true; readonly request: RunRequest; readonly messages: number } | { readonly ok: false; readonly issues: FieldIssue[] };

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/**
 * The run request of a fork: the original SessionStart (participants, versions, TTL, roots,
 * context) started again by its original sender, then every later accepted envelope up to the
 * fork point as kickoff, in runtime order, each sent by its original sender. Payload bytes are
 * re-sent verbatim (base64), so nothing is re-encoded.
 */
export function forkRequest(original: RunRequest, originalRunId: string, envelopes: readonly Envelope[], overrides: ForkOverrides, canSendAs: (sender: string) => boolean): ForkPlan {
  const [start, ...rest] = envelopes;
  if (!start || start.messageType !== "SessionStart") {
    return { ok: false, issues: [{ path: "body/atSeq", message: `no SessionStart of run ${originalRunId} is stored at or before seq ${overrides.atSeq}` }] };
  }
  if (rest.length > FORK_MAX_MESSAGES) return { ok: false, issues: [{ path: "body/atSeq", message: `a fork re-sends at most ${FORK_MAX_MESSAGES} messages (${rest.length} up to this seq)` }] };
  const payload = decodeSessionStart(start.payload);
  const declared = new Map(original.session.participants.map((participant) => [participant.transportIdentity ?? participant.id, participant]));
  const participants = payload.participants.map((id) => {
    const known = declared.get(id);
    return known ? { id: known.id, ...(known.role ? { role: known.role } : {}), ...(known.transportIdentity ? { transportIdentity: known.transportIdentity } : {}) } : { id };
  });
  const members = new Set(payload.participants);
  const issues: FieldIssue[] = [];
  const senders = new Set([start.sender, ...rest.map((envelope) => envelope.sender)]);
  for (const sender of senders) {
    if (!canSendAs(sender)) issues.push({ path: "body/atSeq", message: `the control plane holds no runtime credential for sender "${sender}" (RUNTIME_SENDER_TOKENS_JSON)` });
  }
  for (const envelope of rest) {
    if (!members.has(envelope.sender)) {
      issues.push({ path: "body/atSeq", message: `sender "${envelope.sender}" of ${envelope.messageType} is not a session participant; the control plane can only re-send participants' messages` });
      break;
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  const { context, ...otherExtensions } = payload.extensions;
  const metadata = { ...(original.session.metadata ?? {}), intent: payload.intent, forkOf: { runId: originalRunId, atSeq: overrides.atSeq } };
  const request: RunRequest = {
    mode: original.mode === "sandbox" ? "sandbox" : "live",
    runtime: original.runtime,
    session: {
      modeName: start.mode,
      modeVersion: payload.modeVersion,
      configurationVersion: payload.configurationVersion,
      policyVersion: payload.policyVersion,
      ttlMs: overrides.ttlMs ?? Number(payload.ttlMs),
      initiatorParticipantId: start.sender,
      participants,
      ...(payload.roots.length > 0 ? { roots: payload.roots.map((root) => ({ uri: root.uri, ...(root.name ? { name: root.name } : {}) })) } : {}),
      ...(payload.contextId ? { contextId: payload.contextId } : {}),
      ...(context !== undefined ? { contextEnvelope: { encoding: "base64" as const, base64: toBase64(context) } } : {}),
      metadata: Object.keys(otherExtensions).length > 0 ? { ...metadata, droppedExtensions: Object.keys(otherExtensions) } : metadata,
    },
    kickoff: rest.map((envelope) => ({ from: envelope.sender, messageType: envelope.messageType, payloadEnvelope: { encoding: "base64" as const, base64: toBase64(envelope.payload) } })),
    execution: { tags: [...(overrides.tags ?? [...(original.execution?.tags ?? []), "fork"])] },
  };
  return { ok: true, request, messages: rest.length + 1 };
}
