import { replayLog } from "@macp/core/internal";
import type { ModeLookup, SessionStore } from "@macp/core";
import { checkSnapshot } from "./snapshot-check.js";
import { hashSessionState } from "./state-hash.js";

/** Outcome of checking one session's determinism. */
export interface VerifyResult {
  readonly sessionId: string;
  readonly ok: boolean;
  /** Hash of the state replayed from the full log. */
  readonly replayHash: string | undefined;
  /** Hash of the state rebuilt from the snapshot plus tail, when a usable snapshot exists. */
  readonly snapshotHash: string | undefined;
  readonly error: string | undefined;
  /** Why a stored snapshot was left out (recovery ignores it too, so this is not a mismatch). */
  readonly note: string | undefined;
}

/**
 * Replays a session's full log twice and, when it has a usable snapshot, the snapshot plus tail,
 * and checks that every path yields the same state hash. The snapshot path is the one
 * {@link rebuildSession} would take, so `ok` means recovery rebuilds exactly the logged state.
 */
export async function verifySession(store: SessionStore, modes: ModeLookup, sessionId: string): Promise<VerifyResult> {
  const result = { sessionId, replayHash: undefined, snapshotHash: undefined, error: undefined, note: undefined };
  try {
    const log = await store.loadLog(sessionId);
    const first = hashSessionState(replayLog(modes, log));
    const second = hashSessionState(replayLog(modes, log));
    if (first !== second) {
      return { ...result, ok: false, replayHash: first, error: "replay is not deterministic" };
    }
    const snapshot = await checkSnapshot(store, sessionId, log);
    if (!snapshot) return { ...result, ok: true, replayHash: first };
    if (!snapshot.usable) return { ...result, ok: true, replayHash: first, note: `snapshot ignored: ${snapshot.reason}` };
    let fromSnapshot: string;
    try {
      fromSnapshot = hashSessionState(replayLog(modes, log, snapshot.state));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ...result, ok: false, replayHash: first, error: `snapshot plus tail does not replay: ${message}` };
    }
    const ok = fromSnapshot === first;
    return {
      ...result,
      ok,
      replayHash: first,
      snapshotHash: fromSnapshot,
      error: ok ? undefined : "snapshot plus tail differs from full replay",
    };
  } catch (error) {
    return { ...result, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
