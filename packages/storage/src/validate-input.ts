import type { LogEntry, LogEntryKind, StoredSnapshot } from "@macp/core";
import { storageFailed } from "./storage-error.js";

const KINDS: ReadonlySet<LogEntryKind> = new Set(["incoming", "internal", "checkpoint"]);
const MAX_SEQ = 0xffff_ffff;

/**
 * Rejects entries every backend would store differently or not at all, so the three backends
 * accept exactly the same inputs: entries must belong to the session they are appended to (the
 * file format stores the session id once per append), `seq` must fit 32 bits, the envelope
 * timestamp must be an int64 and the receive time a safe integer (Postgres keeps both as bigint).
 */
export function validateEntries(sessionId: string, entries: readonly LogEntry[]): void {
  for (const entry of entries) {
    if (entry.sessionId !== sessionId) {
      throw storageFailed(`log entry of session "${entry.sessionId}" appended to session "${sessionId}"`);
    }
    if (!KINDS.has(entry.kind)) throw storageFailed(`unknown log entry kind "${String(entry.kind)}"`);
    if (!Number.isInteger(entry.seq) || entry.seq < 0 || entry.seq > MAX_SEQ) {
      throw storageFailed(`log entry seq ${entry.seq} is not an integer in [0, ${MAX_SEQ}]`);
    }
    if (
      typeof entry.timestampUnixMs !== "bigint" ||
      BigInt.asIntN(64, entry.timestampUnixMs) !== entry.timestampUnixMs ||
      !Number.isSafeInteger(entry.receivedAtUnixMs)
    ) {
      throw storageFailed("log entry timestamps must be integer milliseconds (an int64 timestamp, a safe-integer receive time)");
    }
  }
}

/** Snapshots cover a whole number of log records. */
export function validateSnapshot(snapshot: StoredSnapshot): void {
  if (!Number.isSafeInteger(snapshot.logLength) || snapshot.logLength < 0) {
    throw storageFailed(`snapshot logLength ${snapshot.logLength} is not a non-negative integer`);
  }
  const finished = snapshot.finishedAtUnixMs;
  if (finished !== undefined && (!Number.isSafeInteger(finished) || finished < 0)) {
    throw storageFailed(`snapshot finishedAtUnixMs ${finished} is not a non-negative integer`);
  }
}
