import { describe, expect, it } from "vitest";
import { InMemorySessionStore } from "@macp/core";
import { serializeSessionState } from "@macp/core/internal";
import type { LogEntry } from "@macp/core";
import { SignalPayload, decision } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { commitmentBytes, createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";
const participants = ["alice", "bob"];

function proposal(sessionId: string, sender: string, id = "p1", messageId?: string): Envelope {
  return envelope({
    sessionId,
    mode: DECISION,
    messageType: "Proposal",
    sender,
    ...(messageId ? { messageId } : {}),
    payload: decision.ProposalPayload.encode({ proposalId: id, option: "deploy", rationale: "", supportingData: new Uint8Array() }).finish(),
  });
}

async function started(ttlMs = 60_000) {
  const harness = createHarness();
  const id = newSessionId();
  const outcome = await harness.kernel.send(sessionStart(id, DECISION, "alice", { participants, ttlMs }), { sender: "alice" });
  expect(outcome.ok).toBe(true);
  return { ...harness, id };
}

class FailingStore extends InMemorySessionStore {
  failing = false;
  override async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    if (this.failing) throw new Error("disk full");
    return super.append(sessionId, entries);
  }
}

describe("session messages", () => {
  it("rejects a message for an unknown session with SESSION_NOT_FOUND", async () => {
    const { kernel } = await started();
    const outcome = await kernel.send(proposal(newSessionId(), "alice"), { sender: "alice" });
    expect(outcome.error?.code).toBe("SESSION_NOT_FOUND");
  });

  it("acknowledges a re-sent accepted message as a duplicate without changing anything", async () => {
    const { kernel, id } = await started();
    const message = proposal(id, "alice");
    expect((await kernel.send(message, { sender: "alice" })).duplicate).toBe(false);
    const before = serializeSessionState(kernel.sessionState(id)!);
    const published: number[] = [];
    kernel.subscribeSession(id, (event) => published.push(event.seq));
    expect(await kernel.send(message, { sender: "alice" })).toMatchObject({ ok: true, duplicate: true, status: "Open" });
    expect(serializeSessionState(kernel.sessionState(id)!)).toBe(before);
    expect(published).toEqual([]);
  });

  it("answers a duplicate even after the session resolved", async () => {
    const { kernel, id } = await started();
    const message = proposal(id, "alice");
    await kernel.send(message, { sender: "alice" });
    const commit = envelope({ sessionId: id, mode: DECISION, messageType: "Commitment", sender: "alice", payload: commitmentBytes() });
    expect((await kernel.send(commit, { sender: "alice" })).status).toBe("Resolved");
    expect(await kernel.send(message, { sender: "alice" })).toMatchObject({ ok: true, duplicate: true, status: "Resolved" });
    const late = await kernel.send(proposal(id, "bob", "p2"), { sender: "bob" });
    expect(late.error?.code).toBe("SESSION_NOT_OPEN");
  });

  it("rejects an envelope whose mode differs from the session's with INVALID_ENVELOPE", async () => {
    const { kernel, id } = await started();
    const outcome = await kernel.send({ ...proposal(id, "alice"), mode: "macp.mode.task.v1" }, { sender: "alice" });
    expect(outcome.error?.code).toBe("INVALID_ENVELOPE");
  });

  it("does not consume the message id of a rejected message", async () => {
    const { kernel, id } = await started();
    const outsider = await kernel.send(proposal(id, "mallory", "p1", "shared-id"), { sender: "mallory" });
    expect(outsider.error?.code).toBe("FORBIDDEN");
    const retry = await kernel.send(proposal(id, "alice", "p1", "shared-id"), { sender: "alice" });
    expect(retry).toMatchObject({ ok: true, duplicate: false });
  });

  it("keeps the session open at its deadline and expires it one millisecond later", async () => {
    const { kernel, clock, id } = await started(1_000);
    const events: string[] = [];
    kernel.subscribeLifecycle((event) => events.push(event.type));
    clock.advance(1_000);
    expect((await kernel.send(proposal(id, "alice"), { sender: "alice" })).ok).toBe(true);
    clock.advance(1);
    const expired = await kernel.send(proposal(id, "bob", "p2"), { sender: "bob" });
    expect(expired.error).toMatchObject({ code: "SESSION_NOT_OPEN", variant: "TtlExpired" });
    const later = await kernel.send(proposal(id, "bob", "p3"), { sender: "bob" });
    expect(later.error).toMatchObject({ code: "SESSION_NOT_OPEN", variant: "SessionNotOpen" });
    expect(events).toEqual(["EXPIRED"]);
    expect(kernel.peekSession(id)?.record.status).toBe("Expired");
  });

  it("expires a session lazily when it is read, and through the sweep", async () => {
    const { kernel, clock, id } = await started(1_000);
    clock.advance(1_001);
    expect((await kernel.getSession(id))?.record.status).toBe("Expired");
    const other = newSessionId();
    await kernel.send(sessionStart(other, DECISION, "alice", { participants, ttlMs: 1_000 }), { sender: "alice" });
    clock.advance(1_001);
    expect(kernel.peekSession(other)?.record.status).toBe("Open");
    expect(await kernel.sweep()).toBe(1);
    expect(kernel.peekSession(other)?.record.status).toBe("Expired");
  });

  it("answers INTERNAL_ERROR when the durable append fails, changes nothing, and accepts the retry", async () => {
    const store = new FailingStore();
    const { kernel } = createHarness(store);
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    const before = serializeSessionState(kernel.sessionState(id)!);
    store.failing = true;
    const failed = await kernel.send(proposal(id, "alice", "p1", "retry-me"), { sender: "alice" });
    expect(failed.error?.code).toBe("INTERNAL_ERROR");
    expect(serializeSessionState(kernel.sessionState(id)!)).toBe(before);
    store.failing = false;
    expect(await kernel.send(proposal(id, "alice", "p1", "retry-me"), { sender: "alice" })).toMatchObject({
      ok: true,
      duplicate: false,
    });
  });

  it("never registers a session whose SessionStart could not be stored", async () => {
    const store = new FailingStore();
    store.failing = true;
    const { kernel } = createHarness(store);
    const id = newSessionId();
    const outcome = await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    expect(outcome.error?.code).toBe("INTERNAL_ERROR");
    expect(kernel.peekSession(id)).toBeUndefined();
  });

  it("records participant activity for accepted messages only", async () => {
    const { kernel, clock, id } = await started();
    clock.advance(10);
    await kernel.send(proposal(id, "alice"), { sender: "alice" });
    await kernel.send(proposal(id, "mallory", "p9"), { sender: "mallory" });
    const activity = kernel.peekSession(id)?.activity;
    expect([...(activity?.keys() ?? [])]).toEqual(["alice"]);
    expect(activity?.get("alice")?.messageCount).toBe(1);
  });

  it("assigns dense acceptance sequences under concurrent sends", async () => {
    const { kernel, id } = await started();
    const seqs: number[] = [];
    kernel.subscribeSession(id, (event) => seqs.push(event.seq));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => kernel.send(proposal(id, i % 2 ? "alice" : "bob", `p${i}`), { sender: i % 2 ? "alice" : "bob" })),
    );
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
  });

  it("accepts exactly one of many concurrent identical envelopes", async () => {
    const { kernel, id } = await started();
    const message = proposal(id, "alice");
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => kernel.send(message, { sender: "alice" })));
    expect(outcomes.filter((o) => o.ok && !o.duplicate)).toHaveLength(1);
    expect(outcomes.filter((o) => o.duplicate)).toHaveLength(9);
  });
});

describe("ambient signals and progress", () => {
  it("accepts a Signal, reports OPEN and fans it out without touching sessions", async () => {
    const { kernel } = createHarness();
    const received: string[] = [];
    kernel.subscribeSignals((env) => received.push(env.messageId));
    const signal = envelope({
      messageType: "Signal",
      sender: "alice",
      messageId: "sig-1",
      payload: SignalPayload.encode(SignalPayload.fromPartial({ signalType: "heartbeat" })).finish(),
    });
    expect(await kernel.send(signal, { sender: "alice" })).toMatchObject({ ok: true, status: "Open" });
    expect(await kernel.send(signal, { sender: "alice" })).toMatchObject({ ok: true, duplicate: false });
    expect(received).toEqual(["sig-1", "sig-1"]);
    expect(kernel.listSessions()).toHaveLength(0);
  });

  it.each([
    ["a blank signal_type", "Signal", SignalPayload.encode(SignalPayload.fromPartial({ signalType: " " })).finish()],
    ["undecodable Signal bytes", "Signal", new Uint8Array([0xff, 0xff, 0xff])],
    ["undecodable Progress bytes", "Progress", new Uint8Array([0x0a, 0x05, 0x01])],
  ])("rejects %s with INVALID_ENVELOPE", async (_label, messageType, payload) => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(envelope({ messageType, sender: "alice", payload }), { sender: "alice" });
    expect(outcome.error?.code).toBe("INVALID_ENVELOPE");
  });

  it("accepts an empty Signal and a session-scoped Progress for an unknown session", async () => {
    const { kernel } = createHarness();
    expect((await kernel.send(envelope({ messageType: "Signal", sender: "a" }), { sender: "a" })).ok).toBe(true);
    const progress = envelope({ messageType: "Progress", sender: "a", sessionId: newSessionId() });
    expect((await kernel.send(progress, { sender: "a" })).ok).toBe(true);
  });
});
