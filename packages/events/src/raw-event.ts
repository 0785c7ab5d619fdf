import type { Envelope, SessionMetadata } from "@macp/protocol";

/** An envelope the runtime accepted, as delivered on a passive `StreamSession` subscription. */
export interface RawStreamEnvelope {
  readonly kind: "stream-envelope";
  readonly envelope: Envelope;
  /**
   * The envelope's 0-based position in the session log (what `after_sequence` counts), which the
   * consumer tracks per subscription; it is the dedupe key of the raw event.
   */
  readonly runtimeSequence: number;
  /** ISO-8601 time the control plane received the frame; becomes the events' `ts`. */
  readonly receivedAt: string;
}

/** An inline `StreamSessionResponse.error` frame (protocol.md §4.3: codes are variant names). */
export interface RawStreamInlineError {
  readonly kind: "stream-inline-error";
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly sessionId: string;
    readonly messageId: string;
    /** `MACPError.details`: UTF-8 JSON `{"reasons": [...]}` for `POLICY_DENIED`, else empty. */
    readonly details?: Uint8Array;
  };
  readonly receivedAt: string;
}

/** Stream lifecycle as the consumer saw it. */
export type StreamStatus = "opened" | "reconnecting" | "closed" | "recovered";

/** A change in the consumer's subscription (opened, reconnecting, closed, recovered after restart). */
export interface RawStreamStatus {
  readonly kind: "stream-status";
  readonly status: StreamStatus;
  readonly detail?: string;
  readonly receivedAt: string;
}

/** Session metadata read with `GetSession` (liveness checks and binding). */
export interface RawSessionSnapshot {
  readonly kind: "session-snapshot";
  readonly metadata: SessionMetadata;
  readonly receivedAt: string;
}

/** Everything the runtime side feeds into the normalizer (§3.2 raw kinds). */
export type RawRuntimeEvent = RawStreamEnvelope | RawStreamInlineError | RawStreamStatus | RawSessionSnapshot;

/** The raw kinds, for exhaustive handling and validation. */
export const RAW_RUNTIME_EVENT_KINDS = ["stream-envelope", "stream-inline-error", "stream-status", "session-snapshot"] as const;
