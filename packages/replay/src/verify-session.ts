import { deserializeSessionState, replayLog } from "@macp/core";
import type { ModeLookup, SessionStore } from "@macp/core";
import { hashSessionState } from "./state-hash.js";

/** Outcome of checking one session's determinism. */
export interface VerifyResult {
  readonly sessionId: string;
  readonly ok: boolean;
  /** Hash of the state replayed from the full log. */
  readonly replayHash: string | undefined;
  /** Hash of the state rebuilt from the snapshot plus tail, when a snapshot exists. */
  readonly snapshotHash: string | undefined;
  readonly error: string | undefined;
}

/**
 * Replays a session's full log twice and, when it has one, its snapshot plus tail, and checks
 * that every path yields the same state hash.
 */
export async function verifySession(store: SessionStore, modes: ModeLookup, sessionId: string): Promise<VerifyResult> {
  try {
    const log = await store.loadLog(sessionId);
    const first = hashSessionState(replayLog(modes, log));
    const second = hashSessionState(replayLog(modes, log));
    if (first !== second) {
      return { sessionId, ok: false, replayHash: first, snapshotHash: undefined, error: "replay is not deterministic" };
    }
    const snapshot = await store.loadSnapshot(sessionId);
    if (!snapshot) return { sessionId, ok: true, replayHash: first, snapshotHash: undefined, error: undefined };
    const fromSnapshot = hashSessionState(replayLog(modes, log, deserializeSessionState(snapshot.state)));
    return {
      sessionId,
      ok: fromSnapshot === first,
      replayHash: first,
      snapshotHash: fromSnapshot,
      error: fromSnapshot === first ? undefined : "snapshot plus tail differs from full replay",
    };
  } catch (error) {
    return {
      sessionId,
      ok: false,
      replayHash: undefined,
      snapshotHash: undefined,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
