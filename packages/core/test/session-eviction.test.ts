import { describe, expect, it } from "vitest";
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import { replayLog } from "@macp/core/internal";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { MacpError, decision } from "@macp/protocol";
import { T0, commitmentBytes, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";

function evictingKernel() {
  const store = new InMemorySessionStore();
  const modes = new ModeRegistry();
  const clock = new ManualClock(T0);
  const kernel = new Kernel({
    store,
    clock,
    modes,
    policies: new PolicyRegistry(),
    retainFinishedMs: 60_000,
    loadSession: async (id) => {
      const log = await store.loadLog(id);
      return log.length === 0 ? undefined : replayLog(modes, log);
    },
  });
  return { kernel, clock };
}

describe("eviction of finished sessions", () => {
  it("drops a finished session from memory after the retention but keeps it reachable from storage", async () => {
    const { kernel, clock } = evictingKernel();
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice", "bob"] }), { sender: "alice" });
    const proposal = envelope({
      sessionId: id,
      mode: DECISION,
      messageType: "Proposal",
      sender: "alice",
      payload: decision.ProposalPayload.encode({ proposalId: "p1", option: "o", rationale: "", supportingData: new Uint8Array() }).finish(),
    });
    await kernel.send(proposal, { sender: "alice" });
    const commit = envelope({ sessionId: id, mode: DECISION, messageType: "Commitment", sender: "alice", payload: commitmentBytes() });
    expect((await kernel.send(commit, { sender: "alice" })).status).toBe("Resolved");

    clock.advance(30_000);
    await kernel.sweep();
    expect(kernel.listSessions()).toHaveLength(1);
    clock.advance(31_000);
    await kernel.sweep();
    expect(kernel.listSessions()).toHaveLength(0);

    expect(await kernel.send(proposal, { sender: "alice" })).toMatchObject({ ok: true, duplicate: true, status: "Resolved" });
    expect((await kernel.getSession(id))?.record.status).toBe("Resolved");
    const restart = await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }, "new-start"), {
      sender: "alice",
    });
    expect(restart.error?.code).toBe("SESSION_ALREADY_EXISTS");
    expect((await kernel.history(id, 0)).map((event) => event.seq)).toEqual([1, 2, 3]);
  });

  it("keeps open sessions in memory whatever their age", async () => {
    const { kernel, clock } = evictingKernel();
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"], ttlMs: 86_400_000 }), { sender: "alice" });
    clock.advance(3_600_000);
    await kernel.sweep();
    expect(kernel.peekSession(id)?.record.status).toBe("Open");
  });
});

describe("stored sessions that cannot be rebuilt", () => {
  it("answers SESSION_ALREADY_EXISTS to a SessionStart reusing the id and keeps reporting the load error", async () => {
    const store = new InMemorySessionStore();
    const id = newSessionId();
    let loads = 0;
    const kernel = new Kernel({
      store,
      clock: new ManualClock(T0),
      modes: new ModeRegistry(),
      policies: new PolicyRegistry(),
      loadSession: async (sessionId) => {
        loads++;
        const log = await store.loadLog(sessionId);
        if (log.length > 0) throw new MacpError("UnknownMode", "mode 'ext.gone.v1' is not registered");
        return undefined;
      },
    });
    await store.append(id, [
      { kind: "incoming", seq: 1, sessionId: id, mode: "ext.gone.v1", messageType: "SessionStart", messageId: "m0", sender: "alice", macpVersion: "1.0", timestampUnixMs: BigInt(T0), receivedAtUnixMs: T0, payload: new Uint8Array() },
    ]);
    const start = await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    expect(start.error?.code).toBe("SESSION_ALREADY_EXISTS");
    const message = await kernel.send(envelope({ sessionId: id, mode: DECISION, messageType: "Proposal", sender: "alice" }), { sender: "alice" });
    expect(message.error?.code).toBe("MODE_NOT_SUPPORTED");
    expect(loads).toBe(1);
    expect((await store.loadLog(id)).length).toBe(1);
  });
});
