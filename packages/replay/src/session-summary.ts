import type { SessionReplayState, SessionStatus } from "@macp/core";
import type { JsonValue } from "@macp/policy";
import { int64ToJson } from "@macp/protocol";

/**
 * The facts of a session state a person checks: lifecycle, parties, versions, timing, how much
 * history it holds, the resolution and the mode's own state. Plain JSON, stable key order.
 */
export interface SessionSummary {
  readonly sessionId: string;
  readonly mode: string;
  readonly status: SessionStatus;
  readonly initiator: string;
  readonly participants: readonly string[];
  readonly modeVersion: string;
  readonly configurationVersion: string;
  readonly policyVersion: string;
  readonly ttlMs: number;
  readonly startedAtUnixMs: number;
  /** A number within ±(2^53 − 1), else a decimal string (`int64ToJson`). */
  readonly expiresAtUnixMs: number | string;
  readonly accumulatedSuspendedMs: number;
  /** Acceptance sequence of the last accepted envelope. */
  readonly lastSeq: number;
  /** Log records (accepted envelopes plus runtime-internal records). */
  readonly logLength: number;
  readonly acceptedMessages: number;
  /** Resolution bytes, base64, once resolved. */
  readonly resolution: string | null;
  readonly modeState: JsonValue;
}

/** Summarises a session state (what `macp session` prints and golden histories record). */
export function summarizeSession(state: SessionReplayState): SessionSummary {
  const { record } = state;
  return {
    sessionId: record.sessionId,
    mode: record.mode,
    status: record.status,
    initiator: record.initiator,
    participants: [...record.participants],
    modeVersion: record.modeVersion,
    configurationVersion: record.configurationVersion,
    policyVersion: record.policyVersion,
    ttlMs: record.ttlMs,
    startedAtUnixMs: record.startedAtUnixMs,
    expiresAtUnixMs: int64ToJson(record.expiresAtUnixMs),
    accumulatedSuspendedMs: record.accumulatedSuspendedMs,
    lastSeq: record.lastSeq,
    logLength: record.logLength,
    acceptedMessages: state.seenMessageIds.length,
    resolution: record.resolution,
    modeState: record.modeState,
  };
}
