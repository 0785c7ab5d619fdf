import { buildEnvelope, buildSignal } from "@macp/client";
import type { MacpClient } from "@macp/client";
import {
  ModeDescriptor,
  PolicyDescriptor,
  ProgressPayload,
  SessionLifecycleEvent_EventType as EventType,
  SessionState,
} from "@macp/protocol";
import type { WatchSessionsResponse } from "@macp/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  message,
  metricValue,
  newSessionId,
  openDecisionSession,
  proposal,
  scrapeMetrics,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime,
  waitUntilWatching, commitment } from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const BOB = "agent://bob";

/**
 * Each test gets its own runtime: several prove that a watcher received nothing more by shutting
 * the runtime down (which ends every watch stream with OK) and finding no further message.
 */
let runtime: TestRuntime | undefined;
async function fresh(): Promise<{ runtime: TestRuntime; alice: MacpClient; bob: MacpClient }> {
  runtime = await startTestRuntime();
  return { runtime, alice: runtime.client(ALICE), bob: runtime.client(BOB) };
}
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const extMode = (mode: string): ModeDescriptor =>
  ModeDescriptor.fromPartial({ mode, modeVersion: "1.0.0", messageTypes: ["SessionStart", "Ping"], terminalMessageTypes: [] });

describe("WatchModeRegistry", () => {
  it("sends one change at once, then one per successful register, promote and unregister, and nothing for a refused one", async () => {
    const { runtime, alice } = await fresh();
    const watch = new StreamReader(alice.watchModeRegistry(), "WatchModeRegistry");
    const initial = await watch.next("the initial change");
    expect(initial.change).toMatchObject({ registry: "modes" });
    expect(initial.change?.observedAtUnixMs).toBeGreaterThan(0);

    const steps: { what: string; run: () => Promise<{ ok: boolean }>; ok: boolean }[] = [
      { what: "register", run: () => alice.registerExtMode({ modeDescriptor: extMode("ext.watch-a.v1") }), ok: true },
      { what: "register a duplicate", run: () => alice.registerExtMode({ modeDescriptor: extMode("ext.watch-a.v1") }), ok: false },
      { what: "register a second", run: () => alice.registerExtMode({ modeDescriptor: extMode("ext.watch-b.v1") }), ok: true },
      { what: "promote", run: () => alice.promoteMode({ mode: "ext.watch-b.v1", promotedModeName: "ext.watch-c.v1" }), ok: true },
      { what: "unregister", run: () => alice.unregisterExtMode({ mode: "ext.watch-a.v1" }), ok: true },
      { what: "unregister an unknown mode", run: () => alice.unregisterExtMode({ mode: "ext.nope.v1" }), ok: false },
    ];
    for (const step of steps) {
      expect((await step.run()).ok, step.what).toBe(step.ok);
      if (step.ok) expect((await watch.next(`the change after ${step.what}`)).change?.registry).toBe("modes");
    }
    await runtime.close();
    expect(await watch.end("the end at shutdown, with no further change")).toEqual({ status: "OK", details: "" });
  });
});

describe("WatchPolicies", () => {
  it("sends the full registry at once and again after each register and unregister", async () => {
    const { runtime, alice } = await fresh();
    const watch = new StreamReader(alice.watchPolicies(), "WatchPolicies");
    const ids = async (what: string) => (await watch.next(what)).descriptors.map((d) => d.policyId);
    expect(await ids("the initial snapshot")).toEqual(["policy.default"]);

    const policy = PolicyDescriptor.fromPartial({ policyId: "policy.watch", mode: "*", rules: "{}", schemaVersion: 1 });
    expect(await alice.registerPolicy({ policyDescriptor: policy })).toEqual({ ok: true, error: "" });
    expect(await ids("the snapshot after register")).toEqual(["policy.default", "policy.watch"]);
    expect((await alice.registerPolicy({ policyDescriptor: policy })).ok).toBe(false);
    expect(await alice.unregisterPolicy({ policyId: "policy.watch" })).toEqual({ ok: true, error: "" });
    expect(await ids("the snapshot after unregister")).toEqual(["policy.default"]);
    await runtime.close();
    expect(await watch.end("the end at shutdown, with no snapshot for the refused duplicate")).toEqual({ status: "OK", details: "" });
  });
});

describe("WatchSessions", () => {
  type Seen = { type: string; sessionId: string; state: string };
  const seen = (response: WatchSessionsResponse): Seen => ({
    type: EventType[response.event?.eventType ?? 0] ?? "?",
    sessionId: response.event?.session?.sessionId ?? "",
    state: SessionState[response.event?.session?.state ?? 0] ?? "?",
  });

  it("first reports every existing session as CREATED with its current state", async () => {
    const { runtime, alice } = await fresh();
    const open = await openDecisionSession(alice, [ALICE, BOB]);
    const cancelled = await openDecisionSession(alice, [ALICE, BOB]);
    expect((await alice.cancelSession({ sessionId: cancelled, reason: "done" })).ack?.ok).toBe(true);
    const suspended = await openDecisionSession(alice, [ALICE, BOB]);
    expect((await alice.suspendSession({ sessionId: suspended, reason: "pause" })).ack?.ok).toBe(true);

    const watch = new StreamReader(alice.watchSessions(), "WatchSessions");
    const initial = (await watch.take(3, "the initial sync")).map(seen);
    expect(initial).toEqual(
      expect.arrayContaining([
        { type: "EVENT_TYPE_CREATED", sessionId: open, state: "SESSION_STATE_OPEN" },
        { type: "EVENT_TYPE_CREATED", sessionId: cancelled, state: "SESSION_STATE_CANCELLED" },
        { type: "EVENT_TYPE_CREATED", sessionId: suspended, state: "SESSION_STATE_SUSPENDED" },
      ]),
    );
    await runtime.close();
    expect(await watch.end()).toEqual({ status: "OK", details: "" });
  });

  it("the initial sync covers every session even when there are more than a watcher's lag allowance", async () => {
    runtime = await startTestRuntime({ MACP_SESSION_START_LIMIT_PER_MINUTE: "100000" });
    const alice = runtime.client(ALICE);
    const count = 1500;
    for (let batch = 0; batch < count; batch += 100) {
      await Promise.all(Array.from({ length: 100 }, () => openDecisionSession(alice, [ALICE])));
    }
    const watch = new StreamReader(alice.watchSessions(), "WatchSessions over many sessions");
    const initial = await watch.take(count, "the initial sync");
    expect(new Set(initial.map((response) => response.event?.session?.sessionId)).size).toBe(count);
    await runtime.close();
    expect(await watch.end()).toEqual({ status: "OK", details: "" });
  });

  it("initial CREATED events are stamped with the session's start time", async () => {
    const { alice } = await fresh();
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const { metadata } = await alice.getSession({ sessionId });
    const watch = new StreamReader(alice.watchSessions(), "WatchSessions");
    const event = (await watch.next("the initial CREATED")).event;
    expect(event?.observedAtUnixMs).toBe(metadata?.startedAtUnixMs);
    expect(event?.session).toEqual(metadata);
  });

  it("then reports each lifecycle transition as it happens", async () => {
    const { runtime, alice, bob } = await fresh();
    const watch = new StreamReader(alice.watchSessions(), "WatchSessions");
    const s1 = newSessionId();
    const s2 = newSessionId();
    const s3 = newSessionId();
    const script: { what: string; run: () => Promise<unknown>; expected: Seen }[] = [
      {
        what: "start s1",
        run: () => sendAck(alice, sessionStart({ sessionId: s1, participants: [ALICE, BOB] })),
        expected: { type: "EVENT_TYPE_CREATED", sessionId: s1, state: "SESSION_STATE_OPEN" },
      },
      {
        what: "suspend s1",
        run: () => alice.suspendSession({ sessionId: s1, reason: "pause" }),
        expected: { type: "EVENT_TYPE_SUSPENDED", sessionId: s1, state: "SESSION_STATE_SUSPENDED" },
      },
      {
        what: "resume s1",
        run: () => alice.resumeSession({ sessionId: s1, reason: "go" }),
        expected: { type: "EVENT_TYPE_RESUMED", sessionId: s1, state: "SESSION_STATE_OPEN" },
      },
      {
        what: "resolve s1",
        run: async () => {
          expect(ackCode(await sendAck(alice, proposal(s1, "m1")))).toBe("ok");
          expect(ackCode(await sendAck(bob, message({ sessionId: s1, messageType: "Vote", messageId: "m2", json: { proposal_id: "p1", vote: "APPROVE" } })))).toBe("ok");
          const commit = commitment(s1, "m3");
          expect(ackCode(await sendAck(alice, commit))).toBe("ok");
        },
        expected: { type: "EVENT_TYPE_RESOLVED", sessionId: s1, state: "SESSION_STATE_RESOLVED" },
      },
      {
        what: "start s2",
        run: () => sendAck(alice, sessionStart({ sessionId: s2, participants: [ALICE] })),
        expected: { type: "EVENT_TYPE_CREATED", sessionId: s2, state: "SESSION_STATE_OPEN" },
      },
      {
        what: "cancel s2",
        run: () => alice.cancelSession({ sessionId: s2, reason: "stop" }),
        expected: { type: "EVENT_TYPE_CANCELLED", sessionId: s2, state: "SESSION_STATE_CANCELLED" },
      },
      {
        // Its deadline (envelope timestamp + ttl) is already past when it starts: accepted OPEN,
        // then expired by the first call that looks at it.
        what: "start s3 with a deadline in the past",
        run: () =>
          sendAck(alice, sessionStart({ sessionId: s3, participants: [ALICE], timestampUnixMs: Date.now() - 60_000, payload: { ttlMs: 1000 } })),
        expected: { type: "EVENT_TYPE_CREATED", sessionId: s3, state: "SESSION_STATE_OPEN" },
      },
      {
        what: "look at s3",
        run: () => alice.getSession({ sessionId: s3 }),
        expected: { type: "EVENT_TYPE_EXPIRED", sessionId: s3, state: "SESSION_STATE_EXPIRED" },
      },
    ];
    for (const step of script) {
      await step.run();
      expect(seen(await watch.next(`the event after ${step.what}`)), step.what).toEqual(step.expected);
    }
    // Refused transitions emit nothing: cancelling a finished session, suspending a non-open one.
    expect((await alice.cancelSession({ sessionId: s2, reason: "again" })).ack?.ok).toBe(true);
    expect((await alice.suspendSession({ sessionId: s1, reason: "too late" })).ack?.ok).toBe(false);
    await runtime.close();
    expect(await watch.end("the end at shutdown, with no further event")).toEqual({ status: "OK", details: "" });
  });
});

describe("WatchSignals", () => {
  it("delivers every accepted Signal and Progress sent after it subscribed, with the authenticated sender", async () => {
    const { runtime, alice, bob } = await fresh();
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    // A Signal before the watch opens is not replayed (no backlog).
    expect(ackCode(await sendAck(alice, buildSignal({ messageId: "before", payload: { signalType: "early" } })))).toBe("ok");
    const watch = new StreamReader(runtime.client().watchSignals(), "WatchSignals");
    // Something the watcher must see proves the subscription is live before the real script runs.
    await waitUntilWatching(alice, watch);

    const progress = (messageId: string, scopedTo: string) =>
      buildEnvelope({
        mode: "",
        messageType: "Progress",
        messageId,
        sessionId: scopedTo,
        payload: ProgressPayload.encode(ProgressPayload.fromPartial({ progressToken: "t", progress: 0.5, total: 1, message: "half" })).finish(),
      });
    const script = [
      { client: alice, envelope: buildSignal({ messageId: "sig-1", payload: { signalType: "heartbeat" } }), accepted: true },
      { client: bob, envelope: progress("prog-ambient", ""), accepted: true },
      { client: bob, envelope: progress("prog-scoped", sessionId), accepted: true },
      { client: alice, envelope: buildSignal({ messageId: "sig-bad", payload: { signalType: "  " } }), accepted: false },
      { client: alice, envelope: { ...buildSignal({ messageId: "sig-mode", payload: { signalType: "x" } }), mode: "macp.mode.decision.v1" }, accepted: false },
      { client: bob, envelope: buildSignal({ messageId: "sig-2", payload: { signalType: "done" } }), accepted: true },
    ];
    for (const step of script) {
      expect((await sendAck(step.client, step.envelope)).ok, step.envelope.messageId).toBe(step.accepted);
    }
    const delivered = (await watch.take(4, "the accepted signals")).map((r) => [r.envelope?.messageId, r.envelope?.sender]);
    expect(delivered).toEqual([
      ["sig-1", ALICE],
      ["prog-ambient", BOB],
      ["prog-scoped", BOB],
      ["sig-2", BOB],
    ]);
    await runtime.close();
    expect(await watch.end("the end at shutdown, with no rejected signal delivered")).toEqual({ status: "OK", details: "" });
  });
});

describe("lagging watchers", () => {
  it("a WatchSignals client that stops reading has its stream ended with OK instead of buffering without bound", async () => {
    runtime = await startTestRuntime({ MACP_MESSAGE_LIMIT_PER_MINUTE: "100000", MACP_METRICS_ADDR: "127.0.0.1:0" });
    const alice = runtime.client(ALICE);
    const watch = new StreamReader(runtime.client().watchSignals(), "lagging WatchSignals");
    await waitUntilWatching(alice, watch);
    // Wide signals fill the transport's flow-control windows quickly; then the server's queue grows.
    const data = new Uint8Array(4096);
    const total = 2000;
    for (let batch = 0; batch < total; batch += 100) {
      const acks = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          sendAck(alice, buildSignal({ messageId: `lag-${batch + i}`, payload: { signalType: "bulk", data } })),
        ),
      );
      expect(acks.every((ack) => ack.ok)).toBe(true);
    }
    let received = 0;
    for (;;) {
      const result = await watch.nextOrEnd("the rest of the lagging stream");
      if ("end" in result) {
        expect(result.end).toEqual({ status: "OK", details: "" });
        break;
      }
      received++;
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(total);
    const metrics = await scrapeMetrics(runtime.handle.metricsUrl);
    expect(metricValue(metrics, 'macp_stream_lag_drops_total{stream="watch"}')).toBe(1);
  });
});

describe("WatchRoots", () => {
  it("sends exactly one change and then stays open until shutdown", async () => {
    const { runtime, alice } = await fresh();
    const watch = new StreamReader(alice.watchRoots(), "WatchRoots");
    expect((await watch.next("the one change")).change?.observedAtUnixMs).toBeGreaterThan(0);
    await openDecisionSession(alice, [ALICE]);
    expect((await alice.registerExtMode({ modeDescriptor: extMode("ext.roots.v1") })).ok).toBe(true);
    await runtime.close();
    expect(await watch.end("the end at shutdown, with no second change")).toEqual({ status: "OK", details: "" });
  });
});
