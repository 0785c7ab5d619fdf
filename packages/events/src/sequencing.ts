import { CANONICAL_EVENT_SCHEMA_VERSION } from "./event-types.js";
import type { CanonicalEvent, EventDraft } from "./event-types.js";
import type { RawRuntimeEvent } from "./raw-event.js";
import { uuidV5 } from "./uuid-v5.js";

/** UUID namespace of canonical event ids (the v5 UUID of `macp:canonical-event` in the URL namespace). */
export const CANONICAL_EVENT_ID_NAMESPACE = "2f5deda5-152a-5113-9588-0ea622a4df83";

/**
 * The id of the `ordinal`-th (0-based) event of `type` derived from the raw input `rawKey` of
 * `runId`. Keying by type and per-type ordinal, not by position, keeps the other ids stable when
 * a redelivery omits an event the first delivery had (e.g. a `participant.seen` already known).
 */
export function canonicalEventId(runId: string, rawKey: string, type: string, ordinal: number): string {
  return uuidV5(`${runId}\n${rawKey}\n${type}\n${ordinal}`, CANONICAL_EVENT_ID_NAMESPACE);
}

/**
 * The dedupe key of a raw runtime event: equal for every delivery of the same input.
 * Envelopes are keyed by session and message id — accepted message ids are unique within a
 * session, while counted stream positions drift because runtime-internal log entries occupy
 * `after_sequence` slots without being sent. The other kinds are created once by the consumer and
 * keyed by their content, receive time included.
 */
export function rawEventKey(raw: RawRuntimeEvent): string {
  switch (raw.kind) {
    case "stream-envelope":
      return `stream-envelope:${raw.envelope.sessionId}:${raw.envelope.messageId}`;
    case "stream-inline-error":
      return `stream-inline-error:${raw.receivedAt}:${raw.error.sessionId}:${raw.error.messageId}:${raw.error.code}`;
    case "stream-status":
      return `stream-status:${raw.receivedAt}:${raw.status}`;
    case "session-snapshot":
      return `session-snapshot:${raw.receivedAt}:${raw.metadata.sessionId}:${raw.metadata.state}`;
  }
}

/** Input of {@link sequenceEvents}. */
export interface SequenceInput {
  readonly runId: string;
  /** {@link rawEventKey} for runtime input; any stable key (e.g. `run.created`) for control-plane events. */
  readonly rawKey: string;
  readonly drafts: readonly EventDraft[];
  /** Seq of the first event; the caller reserves `drafts.length` numbers starting here. */
  readonly firstSeq: number;
}

/** Output of {@link sequenceEvents}. */
export interface SequencedEvents {
  readonly events: CanonicalEvent[];
  /** The first seq after this block (`firstSeq + drafts.length`). */
  readonly nextSeq: number;
}

/**
 * Turns drafts into canonical events numbered `firstSeq, firstSeq + 1, …` with deterministic ids
 * ({@link canonicalEventId}): the same input always yields identical events, so a redelivered raw
 * event can be written with `ON CONFLICT (id) DO NOTHING` and folded again without effect.
 * Throws `RangeError` when `firstSeq` is not a positive safe integer.
 */
export function sequenceEvents(input: SequenceInput): SequencedEvents {
  if (!Number.isSafeInteger(input.firstSeq) || input.firstSeq < 1) {
    throw new RangeError(`firstSeq must be a positive integer, got ${input.firstSeq}`);
  }
  const ordinals = new Map<string, number>();
  const events = input.drafts.map((draft, index): CanonicalEvent => {
    const ordinal = ordinals.get(draft.type) ?? 0;
    ordinals.set(draft.type, ordinal + 1);
    return {
      id: canonicalEventId(input.runId, input.rawKey, draft.type, ordinal),
      runId: input.runId,
      seq: input.firstSeq + index,
      ts: draft.ts,
      type: draft.type,
      schemaVersion: CANONICAL_EVENT_SCHEMA_VERSION,
      ...(draft.subject === undefined ? {} : { subject: draft.subject }),
      source: draft.source,
      trace: draft.trace,
      data: draft.data,
    };
  });
  return { events, nextSeq: input.firstSeq + input.drafts.length };
}
