import { describe, expect, it } from "vitest";
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import type { LifecycleEvent, LogEntry } from "@macp/core";
import { replayLog } from "@macp/core/internal";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { MAX_SUSPEND_MS } from "@macp/protocol";
import { T0, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";

/** An in-memory store that records how many appends were in flight at once. */
class ConcurrencyStore extends InMemorySessionStore {
  inFlight = 0;
  maxInFlight = 0;

  override async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // A durable write takes a turn of the event loop; concurrent ones overlap here.
      await new Promise((resolve) => setImmediate(resolve));
      await super.append(sessionId, entries);
    } finally {
      this.inFlight--;
    }
  }
}

function sweepingKernel(retainFinishedMs?: number) {
  const store = new ConcurrencyStore();
  const modes = new ModeRegistry();
  const clock = new ManualClock(T0);
  const kernel = new Kernel({
    store,
    clock,
    modes,
    policies: new PolicyRegistry(),
    ...(retainFinishedMs === undefined ? {} : { retainFinishedMs }),
    loadSession: async (id) => {
      const log = await store.loadLog(id);
      return log.length === 0 ? undefined : replayLog(modes, log);
    },
  });
  const events: LifecycleEvent[] = [];
  kernel.subscribeLifecycle((event) => events.push(event));
  return { kernel, clock, store, events };
}

async function start(kernel: Kernel, ttlMs: number): Promise<string> {
  const id = newSessionId();
  const outcome = await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice", "bob"], ttlMs }), { sender: "alice" });
  if (!outcome.ok) throw new Error(outcome.error?.message);
  return id;
}

describe("the sweep", () => {
  it("expires every session due at once in one sweep, each with its EXPIRED event, writing the records concurrently", async () => {
    const { kernel, clock, store, events } = sweepingKernel();
    const due = [];
    for (let i = 0; i < 3000; i++) due.push(await start(kernel, 5_000));
    const later = await start(kernel, 60_000);
    store.maxInFlight = 0;
    clock.advance(5_001);

    expect(await kernel.sweep()).toBe(3000);

    for (const id of due) expect(kernel.peekSession(id)?.record.status).toBe("Expired");
    expect(kernel.peekSession(later)?.record.status).toBe("Open");
    const expired = events.filter((event) => event.type === "EXPIRED").map((event) => event.sessionId);
    expect(expired.sort()).toEqual([...due].sort());
    for (const id of due.slice(0, 5)) expect((await store.loadLog(id)).at(-1)?.messageType).toBe("TtlExpired");
    // Records of due sessions go to the store together, so a group-committing backend batches them.
    expect(store.maxInFlight).toBeGreaterThan(100);
    expect(await kernel.sweep()).toBe(0);
  });

  it("follows deadlines that moved: a resumed session gets its suspended time back, a suspended one expires at the cap", async () => {
    const { kernel, clock } = sweepingKernel();
    const resumed = await start(kernel, 10_000);
    const suspended = await start(kernel, 10_000);
    clock.advance(1_000);
    expect((await kernel.suspend(resumed, "alice", "wait")).ok).toBe(true);
    expect((await kernel.suspend(suspended, "alice", "wait")).ok).toBe(true);
    clock.advance(20_000);
    expect((await kernel.resume(resumed, "alice", "back")).ok).toBe(true);

    // The original deadline (T0 + 10 s) has passed, but 20 s of suspension were banked.
    clock.advance(5_000);
    expect(await kernel.sweep()).toBe(0);
    expect(kernel.peekSession(resumed)?.record.status).toBe("Open");
    clock.advance(5_000);
    expect(await kernel.sweep()).toBe(1);
    expect(kernel.peekSession(resumed)?.record.status).toBe("Expired");

    clock.advance(MAX_SUSPEND_MS);
    expect(await kernel.sweep()).toBe(1);
    expect(kernel.peekSession(suspended)?.record.status).toBe("Expired");
  });

  it("evicts a finished session the retention after it finished, however long ago it started", async () => {
    const { kernel, clock } = sweepingKernel(60_000);
    const id = await start(kernel, 3_600_000);
    clock.advance(600_000);
    expect((await kernel.cancel(id, "alice", "done")).status).toBe("Cancelled");

    clock.advance(59_000);
    await kernel.sweep();
    expect(kernel.peekSession(id)?.record.status).toBe("Cancelled");
    clock.advance(2_000);
    await kernel.sweep();
    expect(kernel.peekSession(id)).toBeUndefined();
    // Loaded again on demand, it stays for another retention window.
    expect((await kernel.getSession(id))?.record.status).toBe("Cancelled");
    clock.advance(30_000);
    await kernel.sweep();
    expect(kernel.peekSession(id)?.record.status).toBe("Cancelled");
  });

  it("keeps resident finished sessions near rate × retention while sessions keep finishing", async () => {
    const { kernel, clock } = sweepingKernel(10_000);
    let maxResident = 0;
    // 10 sessions finish per simulated second for 2 minutes, with a sweep every 2 s.
    for (let second = 1; second <= 120; second++) {
      for (let i = 0; i < 10; i++) {
        const id = await start(kernel, 60_000);
        expect((await kernel.cancel(id, "alice", "done")).ok).toBe(true);
      }
      clock.advance(1_000);
      if (second % 2 === 0) await kernel.sweep();
      maxResident = Math.max(maxResident, kernel.listSessions().length);
    }
    // 10/s × 10 s retention = 100, plus at most one sweep interval's worth.
    expect(maxResident).toBeLessThanOrEqual(120);
  });
});
