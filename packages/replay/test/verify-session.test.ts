import { describe, expect, it } from "vitest";
import { replayLog, serializeSessionState } from "@macp/core/internal";
import type { ModeLookup, SessionStore } from "@macp/core";
import { ModeRegistry, accepted } from "@macp/modes";
import { ModeId } from "@macp/protocol";
import { MemoryStore } from "@macp/storage";
import { hashSessionState, verifySession } from "@macp/replay";
import { COORDINATOR, accept, createHarness, openDecision, resolveDecision, sessionIdFor, sessionStart } from "./support.js";

describe("verifySession", () => {
  it("passes a session without a snapshot, reporting the hash of its live state", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);

    const result = await verifySession(h.store, h.modes, id);

    expect(result).toEqual({
      sessionId: id,
      ok: true,
      replayHash: hashSessionState(h.kernel.sessionState(id) ?? never()),
      snapshotHash: undefined,
      error: undefined,
      note: undefined,
    });
  });

  it("passes a session whose snapshot plus tail equals the full replay", async () => {
    const h = createHarness(new MemoryStore(), { snapshotEvery: 3 });
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    await resolveDecision(h, id);
    await h.kernel.drain();
    await h.store.writeSnapshot(id, { logLength: 3, state: await snapshotAt(h.store, h.modes, id, 3) });

    const result = await verifySession(h.store, h.modes, id);

    expect(result.ok).toBe(true);
    expect(result.snapshotHash).toBe(result.replayHash);
    expect(result.replayHash).toBe(hashSessionState(h.kernel.sessionState(id) ?? never()));
  });

  it("reports a mismatch when the snapshot describes a different state than the log", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    const live = h.kernel.sessionState(id) ?? never();
    const tampered = { ...live, record: { ...live.record, intent: "rewritten", participants: [COORDINATOR] } };
    await h.store.writeSnapshot(id, { logLength: live.record.logLength, state: serializeSessionState(tampered) });

    const result = await verifySession(h.store, h.modes, id);

    expect(result.ok).toBe(false);
    expect(result.error).toBe("snapshot plus tail differs from full replay");
    expect(result.replayHash).toBe(hashSessionState(live));
    expect(result.snapshotHash).toBe(hashSessionState(tampered));
  });

  it("passes with a note when the snapshot is unusable, since recovery ignores it too", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 1);
    await h.store.writeSnapshot(id, { logLength: 99, state: "{}" });

    const result = await verifySession(h.store, h.modes, id);

    expect(result.ok).toBe(true);
    expect(result.snapshotHash).toBeUndefined();
    expect(result.note).toBe("snapshot ignored: snapshot covers 99 log records but the log holds 3");
  });

  it("reports a session whose log cannot be replayed", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 1);
    const empty: ModeLookup = { get: () => undefined };

    const result = await verifySession(h.store, empty, id);

    expect(result.ok).toBe(false);
    expect(result.replayHash).toBeUndefined();
    expect(result.error).toBe(`mode '${ModeId.Decision}' is not registered`);
  });

  it("reports replay that is not deterministic", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await accept(h.kernel, sessionStart(ModeId.Decision, id));
    let calls = 0;
    const drifting: ModeLookup = {
      get: (mode) => {
        const entry = new ModeRegistry().get(mode);
        if (!entry) return undefined;
        return { ...entry, handler: { ...entry.handler, start: () => accepted(++calls) } };
      },
    };

    const result = await verifySession(h.store, drifting, id);

    expect(result.ok).toBe(false);
    expect(result.error).toBe("replay is not deterministic");
  });
});

/** The serialized state after the first `length` log records, as a snapshot would hold it. */
async function snapshotAt(store: SessionStore, modes: ModeLookup, id: string, length: number): Promise<string> {
  return serializeSessionState(replayLog(modes, (await store.loadLog(id)).slice(0, length)));
}

function never(): never {
  throw new Error("missing test value");
}
