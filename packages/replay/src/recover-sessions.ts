import { replayLog } from "@macp/core/internal";
import { isTerminal } from "@macp/core";
import type { LogEntry, ModeLookup, RestoredSession, SessionStore } from "@macp/core";
import { MacpError } from "@macp/protocol";
import { checkSnapshot } from "./snapshot-check.js";

/** A session that could not be rebuilt, and why. */
export interface RecoveryFailure {
  readonly sessionId: string;
  readonly error: string;
}

/** Result of rebuilding the stored sessions that may still be open or suspended. */
export interface RecoveryReport {
  readonly recovered: RestoredSession[];
  readonly failures: RecoveryFailure[];
  /** Sessions rebuilt from a snapshot plus log tail (the rest were replayed in full). */
  readonly fromSnapshot: number;
}

/** Options of {@link recoverSessions}. */
export interface RecoveryOptions {
  /** Throw on the first session that cannot be rebuilt instead of skipping it. */
  readonly strict?: boolean;
}

/**
 * Rebuilds one session: its latest snapshot plus the log records after it, or the whole log
 * when there is no usable snapshot. The bound policy comes from the log, never a registry. A
 * session whose mode is not registered fails with `UnknownMode` either way, so whether a
 * snapshot happened to exist never decides if a session comes back.
 */
export async function rebuildSession(store: SessionStore, modes: ModeLookup, sessionId: string): Promise<{ state: RestoredSession; fromSnapshot: boolean }> {
  return rebuildFromLog(store, modes, sessionId, await store.loadLog(sessionId));
}

/**
 * A stored session rebuilt on demand (e.g. after eviction from memory), or undefined when the
 * store holds no log for the id. Reads the log once.
 */
export async function loadStoredSession(store: SessionStore, modes: ModeLookup, sessionId: string): Promise<RestoredSession | undefined> {
  const log = await store.loadLog(sessionId);
  return log.length === 0 ? undefined : (await rebuildFromLog(store, modes, sessionId, log)).state;
}

async function rebuildFromLog(
  store: SessionStore,
  modes: ModeLookup,
  sessionId: string,
  log: LogEntry[],
): Promise<{ state: RestoredSession; fromSnapshot: boolean }> {
  const snapshot = await checkSnapshot(store, sessionId, log);
  let rebuilt: { state: RestoredSession; fromSnapshot: boolean } | undefined;
  if (snapshot?.usable) {
    try {
      const state = replayLog(modes, log, snapshot.state);
      rebuilt = { state: { ...state, snapshotLogLength: snapshot.state.record.logLength }, fromSnapshot: true };
    } catch {
      // A snapshot that passed the checks can still be from an older layout: the log decides.
    }
  }
  rebuilt ??= { state: replayLog(modes, log), fromSnapshot: false };
  const mode = rebuilt.state.record.mode;
  if (!modes.get(mode)) throw new MacpError("UnknownMode", `mode '${mode}' is not registered`);
  // A finished session's terminal transition is its last record.
  const last = log[log.length - 1];
  if (isTerminal(rebuilt.state.record.status) && last !== undefined) {
    rebuilt = { ...rebuilt, state: { ...rebuilt.state, finishedAtUnixMs: last.receivedAtUnixMs } };
  }
  return rebuilt;
}

/**
 * Rebuilds the stored sessions that may still be open or suspended (crash recovery at daemon
 * start): finished sessions whose snapshot says so are left on disk, to be loaded on demand, so
 * the time this takes does not grow with history.
 */
export async function recoverSessions(
  store: SessionStore,
  modes: ModeLookup,
  options: RecoveryOptions = {},
): Promise<RecoveryReport> {
  const recovered: RestoredSession[] = [];
  const failures: RecoveryFailure[] = [];
  let fromSnapshot = 0;
  for (const sessionId of await store.listUnfinishedSessions()) {
    try {
      const rebuilt = await rebuildSession(store, modes, sessionId);
      recovered.push(rebuilt.state);
      if (rebuilt.fromSnapshot) fromSnapshot++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (options.strict) throw new Error(`cannot recover session ${sessionId}: ${message}`);
      failures.push({ sessionId, error: message });
    }
  }
  return { recovered, failures, fromSnapshot };
}
