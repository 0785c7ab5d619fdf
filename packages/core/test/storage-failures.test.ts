import { describe, expect, it } from "vitest";
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import { replayLog } from "@macp/core/internal";
import type { LogEntry, RegistryKind } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeDescriptor, SessionStartPayload, decision } from "@macp/protocol";
import { T0, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";

/** A store whose next append commits and then reports failure, like a connection lost after COMMIT. */
class AmbiguousStore extends InMemorySessionStore {
  commitThenFail = false;
  loadFailures = 0;
  failNextSaves = 0;
  override async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    await super.append(sessionId, entries);
    if (this.commitThenFail) {
      this.commitThenFail = false;
      throw new Error("connection lost after commit");
    }
  }
  override async loadLog(sessionId: string): Promise<LogEntry[]> {
    if (this.loadFailures > 0) {
      this.loadFailures--;
      throw new Error("ECONNRESET");
    }
    return super.loadLog(sessionId);
  }
  override async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    if (this.failNextSaves > 0) {
      this.failNextSaves--;
      throw new Error("disk full");
    }
    return super.saveRegistry(kind, document);
  }
}

function kernelOver(store: AmbiguousStore, modes = new ModeRegistry()) {
  return new Kernel({
    store,
    clock: new ManualClock(T0),
    modes,
    policies: new PolicyRegistry(),
    loadSession: async (id) => {
      const log = await store.loadLog(id);
      return log.length === 0 ? undefined : replayLog(modes, log);
    },
  });
}

const proposal = (sessionId: string, messageId: string) =>
  envelope({
    sessionId,
    mode: DECISION,
    messageType: "Proposal",
    messageId,
    sender: "alice",
    payload: decision.ProposalPayload.encode({ proposalId: "p1", option: "o", rationale: "", supportingData: new Uint8Array() }).finish(),
  });

describe("storage failures", () => {
  it("treats the retry of an append that failed but committed as a duplicate, and the log still replays", async () => {
    const store = new AmbiguousStore();
    const modes = new ModeRegistry();
    const kernel = kernelOver(store, modes);
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    store.commitThenFail = true;
    expect((await kernel.send(proposal(id, "m1"), { sender: "alice" })).error?.code).toBe("INTERNAL_ERROR");
    expect(await kernel.send(proposal(id, "m1"), { sender: "alice" })).toMatchObject({ ok: true, duplicate: true });
    expect(replayLog(modes, await store.loadLog(id)).seenMessageIds).toContain("m1");
  });

  it("replays a log that holds a retried message twice as if it held it once", async () => {
    const store = new InMemorySessionStore();
    const modes = new ModeRegistry();
    const kernel = new Kernel({ store, clock: new ManualClock(T0), modes, policies: new PolicyRegistry() });
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    await kernel.send(proposal(id, "m1"), { sender: "alice" });
    const log = await store.loadLog(id);
    const repeated = [...log, { ...(log[log.length - 1] as LogEntry) }];
    expect(JSON.stringify(replayLog(modes, repeated).record.modeState)).toBe(JSON.stringify(kernel.peekSession(id)?.record.modeState));
  });

  it("reports a transient load failure as INTERNAL_ERROR without remembering it", async () => {
    const store = new AmbiguousStore();
    const kernel = kernelOver(store);
    const id = newSessionId();
    store.loadFailures = 1;
    const first = await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    expect(first.error?.code).toBe("INTERNAL_ERROR");
    const retry = await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    expect(retry).toMatchObject({ ok: true, duplicate: false });
  });

  it("serializes registry changes: a failed save never undoes a concurrent successful one", async () => {
    const store = new AmbiguousStore();
    const modes = new ModeRegistry();
    const kernel = kernelOver(store, modes);
    const descriptor = (mode: string) =>
      ModeDescriptor.fromPartial({ mode, modeVersion: "1.0.0", messageTypes: ["SessionStart", "Note", "Commitment"] });
    store.failNextSaves = 1;
    const [failed, succeeded] = await Promise.all([
      kernel.registerMode(descriptor("ext.a.v1")),
      kernel.registerMode(descriptor("ext.b.v1")),
    ]);
    expect(failed.ok).toBe(false);
    expect(succeeded.ok).toBe(true);
    expect(modes.get("ext.a.v1")).toBeUndefined();
    expect(modes.get("ext.b.v1")).toBeDefined();
    const saved = JSON.parse((await store.loadRegistry("modes")) ?? "{}") as { extensions?: { descriptor: { mode: string } }[] };
    expect(JSON.stringify(saved)).toContain("ext.b.v1");
    expect(JSON.stringify(saved)).not.toContain("ext.a.v1");
  });

  it("replays a session of a mode promoted after it started (promotion makes the mode strict)", async () => {
    const store = new InMemorySessionStore();
    const modes = new ModeRegistry();
    const kernel = new Kernel({ store, clock: new ManualClock(T0), modes, policies: new PolicyRegistry() });
    await kernel.registerMode(ModeDescriptor.fromPartial({ mode: "ext.loose.v1", modeVersion: "1.0.0", messageTypes: ["Note"] }));
    const id = newSessionId();
    const start = envelope({
      sessionId: id,
      mode: "ext.loose.v1",
      messageType: "SessionStart",
      sender: "alice",
      payload: SessionStartPayload.encode(SessionStartPayload.fromPartial({ ttlMs: 60_000 })).finish(),
    });
    expect((await kernel.send(start, { sender: "alice" })).ok).toBe(true);
    expect((await kernel.promoteMode("ext.loose.v1")).ok).toBe(true);
    expect(replayLog(modes, await store.loadLog(id)).record.status).toBe("Open");
  });
});
