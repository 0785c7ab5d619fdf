import type { JsonValue, PolicyDefinition } from "@macp/policy";
import { MacpError, int64FromJson, int64JsonReplacer } from "@macp/protocol";

/** Lifecycle state of a session. */
export type SessionStatus = "Open" | "Resolved" | "Expired" | "Cancelled" | "Suspended";

/** Per-sender activity counters (not part of replayable state). */
export interface ParticipantActivityRecord {
  lastMessageAtUnixMs: number;
  messageCount: number;
}

/**
 * Everything the kernel knows about one session. Plain data (bytes are base64 strings) so it can
 * be snapshotted, hashed, compared after replay and shown to users.
 */
export interface SessionRecord {
  readonly sessionId: string;
  readonly mode: string;
  readonly status: SessionStatus;
  readonly initiator: string;
  readonly participants: readonly string[];
  readonly intent: string;
  readonly modeVersion: string;
  readonly configurationVersion: string;
  readonly policyVersion: string;
  readonly policy: PolicyDefinition | null;
  readonly ttlMs: number;
  readonly startedAtUnixMs: number;
  /** SessionStart timestamp (or receive time) + TTL, saturating at i64::MAX, shifted by resumes. */
  readonly expiresAtUnixMs: bigint;
  readonly contextId: string;
  /** SessionStart `extensions`, values base64. */
  readonly extensions: Readonly<Record<string, string>>;
  readonly roots: readonly { readonly uri: string; readonly name: string }[];
  readonly modeState: JsonValue;
  /** Resolution bytes (base64) once resolved. */
  readonly resolution: string | null;
  /** Acceptance sequence of the last accepted envelope (SessionStart is 1). */
  readonly lastSeq: number;
  /** Number of log records written for this session. */
  readonly logLength: number;
  readonly suspendedAtUnixMs: number | null;
  readonly accumulatedSuspendedMs: number;
}

/** A session record plus its dedup set: the complete replayable state of one session. */
export interface SessionReplayState {
  readonly record: SessionRecord;
  /** Accepted message ids in acceptance order. */
  readonly seenMessageIds: readonly string[];
}

/**
 * Canonical JSON text of a session's replayable state: the form of snapshots and determinism
 * checks. 64-bit values are numbers within ±(2^53 − 1) and decimal strings beyond (`int64ToJson`),
 * so a state whose values all fit a double serializes as it always did.
 */
export function serializeSessionState(state: SessionReplayState): string {
  return JSON.stringify({ record: state.record, seenMessageIds: state.seenMessageIds }, int64JsonReplacer);
}

/** Parses a snapshot produced by {@link serializeSessionState}. */
export function deserializeSessionState(text: string): SessionReplayState {
  const parsed = JSON.parse(text) as { record: Omit<SessionRecord, "expiresAtUnixMs"> & { expiresAtUnixMs: unknown }; seenMessageIds: string[] };
  const expiresAtUnixMs = int64FromJson(parsed.record.expiresAtUnixMs);
  if (expiresAtUnixMs === undefined) throw new MacpError("InvalidModeState", "snapshot expiresAtUnixMs is not a 64-bit integer");
  return { record: { ...parsed.record, expiresAtUnixMs }, seenMessageIds: parsed.seenMessageIds };
}

/** Base64 of raw bytes without relying on Node's Buffer (this package is platform-neutral). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Inverse of {@link bytesToBase64}. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
