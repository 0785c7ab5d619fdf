import { MacpError } from "./errors.js";
import type { MacpErrorVariant } from "./errors.js";

/**
 * Maximum UTF-8 length of each kind of client-chosen identifier. The spec sets none; these are
 * generous (a UUID is 36 bytes) and keep every echo of an identifier small. Documented in the
 * runtime README ("Limits").
 */
export const IDENTIFIER_LIMITS = {
  /** `session_id` of envelopes, lookups, control RPCs and subscribe frames. */
  sessionId: 256,
  /** `message_id` of envelopes. */
  messageId: 256,
  /** `message_type` of envelopes and mode descriptors. */
  messageType: 256,
  /** Mode names: `Envelope.mode`, mode descriptors, mode registry and policy filter arguments. */
  mode: 256,
  /** Policy ids: SessionStart `policy_version`, policy descriptors, policy registry arguments. */
  policyId: 256,
  /** SessionStart `mode_version` and `configuration_version`. */
  version: 256,
  /** Agent identities: `Envelope.sender`, SessionStart participants, GetManifest `agent_id`. */
  agentId: 1024,
  /** SessionStart `context_id`. */
  contextId: 1024,
  /** `SignalPayload.signal_type`. */
  signalType: 256,
} as const;

/** A kind of identifier with a length limit. */
export type IdentifierKind = keyof typeof IDENTIFIER_LIMITS;

/** UTF-8 length of `text`, without encoding it when it is surely short. */
function utf8Length(text: string, atMost: number): number {
  return text.length * 3 <= atMost ? text.length : new TextEncoder().encode(text).length;
}

/**
 * The error for an identifier over its kind's limit, or undefined. `field` names it in the
 * message; `variant` is the error kind the caller's surface uses (e.g. `InvalidEnvelope` on Send,
 * `InvalidRequest` on other RPCs). The identifier itself is never quoted.
 */
export function identifierLengthError(
  kind: IdentifierKind,
  field: string,
  value: string,
  variant: MacpErrorVariant,
): MacpError | undefined {
  const limit = IDENTIFIER_LIMITS[kind];
  const length = utf8Length(value, limit);
  if (length <= limit) return undefined;
  return new MacpError(variant, `${field} is ${length} bytes, over the limit of ${limit}`);
}
