import type { MacpError, SessionStartPayload } from "@macp/protocol";
import type { JsonValue, PolicyDefinition } from "@macp/policy";

/** What a mode may read about the session it runs in. Immutable for the session's life. */
export interface SessionView {
  readonly sessionId: string;
  readonly mode: string;
  /** Authenticated sender of the accepted SessionStart. */
  readonly initiator: string;
  /** Declared participants, exactly as sent. */
  readonly participants: readonly string[];
  readonly modeVersion: string;
  readonly configurationVersion: string;
  /** Effective policy id (`policy.default` when SessionStart left it empty; may be "" in replay of legacy logs). */
  readonly policyVersion: string;
  /** The policy bound at SessionStart, or null (only for legacy replay). */
  readonly policy: PolicyDefinition | null;
  readonly ttlMs: number;
}

/** The envelope fields a mode sees; `sender` is already the authenticated identity. */
export interface ModeEnvelope {
  readonly messageType: string;
  readonly messageId: string;
  readonly sender: string;
  /** The client's `timestamp_unix_ms`, exact over the whole int64 range. */
  readonly timestampUnixMs: bigint;
  readonly payload: Uint8Array;
}

/** Result of a mode step: the new plain-JSON mode state (and a resolution when terminal), or a typed rejection. */
export type ModeOutcome =
  | { readonly kind: "accepted"; readonly state: JsonValue; readonly resolution?: Uint8Array }
  | { readonly kind: "rejected"; readonly error: MacpError };

/**
 * A mode is a pure state machine. It never reads a clock, does no I/O and never mutates its
 * input state, so replaying the accepted history always yields the same state.
 */
export interface ModeHandler {
  /** Builds the initial mode state (or rejects mode-specific SessionStart rules). */
  start(session: SessionView, payload: SessionStartPayload): ModeOutcome;
  /** Authorizes the sender, then validates and applies the message. */
  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome;
}

/** Shorthand for an accepted outcome. */
export function accepted(state: JsonValue, resolution?: Uint8Array): ModeOutcome {
  return resolution === undefined ? { kind: "accepted", state } : { kind: "accepted", state, resolution };
}

/** Shorthand for a rejected outcome. */
export function rejected(error: MacpError): ModeOutcome {
  return { kind: "rejected", error };
}
