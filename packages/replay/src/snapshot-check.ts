import { deserializeSessionState } from "@macp/core/internal";
import type { LogEntry, SessionReplayState, SessionStore } from "@macp/core";

/** A stored snapshot that can seed replay, or why it cannot. */
export type SnapshotCheck =
  | { readonly usable: true; readonly state: SessionReplayState }
  | { readonly usable: false; readonly reason: string };

/**
 * Loads a session's snapshot and decides whether it may stand in for the first records of `log`.
 * A snapshot is only an optimisation, so anything doubtful rules it out: unreadable or
 * unparsable files, one that covers more records than the log holds (the log tail was cut after
 * it was written), and one whose accepted message ids differ from the log's (the cut records
 * were replaced by new ones with the same sequence numbers). Undefined when there is none.
 */
export async function checkSnapshot(
  store: SessionStore,
  sessionId: string,
  log: readonly LogEntry[],
): Promise<SnapshotCheck | undefined> {
  let stored;
  try {
    stored = await store.loadSnapshot(sessionId);
  } catch (error) {
    return unusable(`snapshot unreadable: ${describe(error)}`);
  }
  if (!stored) return undefined;
  if (stored.logLength > log.length) {
    return unusable(`snapshot covers ${stored.logLength} log records but the log holds ${log.length}`);
  }
  let state: SessionReplayState;
  try {
    state = deserializeSessionState(stored.state);
  } catch (error) {
    return unusable(`snapshot unparsable: ${describe(error)}`);
  }
  if (typeof state.record !== "object" || state.record === null || !Array.isArray(state.seenMessageIds)) {
    return unusable("snapshot is not a session state");
  }
  if (state.record.sessionId !== sessionId || state.record.logLength !== stored.logLength) {
    return unusable("snapshot does not describe this session's log");
  }
  if (!sameIds(acceptedIds(log.slice(0, stored.logLength)), state.seenMessageIds)) {
    return unusable("snapshot's accepted messages differ from the log's");
  }
  return { usable: true, state };
}

function unusable(reason: string): SnapshotCheck {
  return { usable: false, reason };
}

/** Ids of the accepted envelopes of a log prefix, first occurrence only (as replay records them). */
function acceptedIds(entries: readonly LogEntry[]): string[] {
  const seen = new Set<string>();
  for (const entry of entries) if (entry.kind === "incoming") seen.add(entry.messageId);
  return [...seen];
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
