import { describe, expect, it } from "vitest";
import { INT64_MAX, INT64_MIN, ModeId, encodePayload } from "@macp/protocol";
import { ModeRegistry } from "@macp/modes";
import { envelopeOf } from "@macp/core";
import { deserializeSessionState, replayLog, serializeSessionState } from "@macp/core/internal";
import { T0, createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";
const participants = ["alice", "bob"];

function taskRequest(sessionId: string, deadlineUnixMs: bigint) {
  return envelope({
    sessionId,
    mode: ModeId.Task,
    messageType: "TaskRequest",
    sender: "alice",
    timestampUnixMs: INT64_MAX,
    payload: encodePayload(ModeId.Task, "TaskRequest", { taskId: "t1", title: "Build", deadlineUnixMs }),
  });
}

describe("64-bit values through the kernel", () => {
  it("gives a SessionStart stamped i64::MAX the deadline i64::MAX (saturating, as the reference) and never expires it", async () => {
    const { kernel, clock } = createHarness();
    const id = newSessionId();
    const outcome = await kernel.send({ ...sessionStart(id, DECISION, "alice", { participants, ttlMs: 5_000 }), timestampUnixMs: INT64_MAX }, { sender: "alice" });
    expect(outcome.ok).toBe(true);
    expect(kernel.peekSession(id)?.record.expiresAtUnixMs).toBe(INT64_MAX);
    clock.advance(86_400_000);
    await kernel.sweep();
    expect((await kernel.getSession(id))?.record.status).toBe("Open");
    expect(await kernel.suspend(id, "alice", "pause")).toMatchObject({ ok: true });
    clock.advance(1_000);
    expect(await kernel.resume(id, "alice", "go")).toMatchObject({ ok: true, status: "Open" });
    expect(kernel.peekSession(id)?.record.expiresAtUnixMs).toBe(INT64_MAX);
  });

  it("computes the deadline of a timestamp beyond 2^53 exactly", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    const stamped = 2n ** 60n + 1n;
    await kernel.send({ ...sessionStart(id, DECISION, "alice", { participants, ttlMs: 5_000 }), timestampUnixMs: stamped }, { sender: "alice" });
    expect(kernel.peekSession(id)?.record.expiresAtUnixMs).toBe(stamped + 5_000n);
  });

  it("bases the deadline of a SessionStart stamped i64::MIN on the accept time, and keeps the stamp", async () => {
    const { kernel, store } = createHarness();
    const id = newSessionId();
    await kernel.send({ ...sessionStart(id, DECISION, "alice", { participants, ttlMs: 5_000 }), timestampUnixMs: INT64_MIN }, { sender: "alice" });
    expect(kernel.peekSession(id)?.record.expiresAtUnixMs).toBe(BigInt(T0 + 5_000));
    const [start] = await store.loadLog(id);
    expect(start?.timestampUnixMs).toBe(INT64_MIN);
    expect(envelopeOf(start!).timestampUnixMs).toBe(INT64_MIN);
  });

  it("keeps a Task deadline of i64::MAX exactly in the log, the live state, a snapshot and a replay", async () => {
    const { kernel, store } = createHarness();
    const id = newSessionId();
    await kernel.send(sessionStart(id, ModeId.Task, "alice", { participants: ["alice", "bob"] }), { sender: "alice" });
    expect((await kernel.send(taskRequest(id, INT64_MAX), { sender: "alice" })).ok).toBe(true);

    const live = kernel.peekSession(id)!.record;
    expect(live.modeState).toMatchObject({ task: { deadline_unix_ms: "9223372036854775807" } });
    const log = await store.loadLog(id);
    expect(log.at(-1)?.timestampUnixMs).toBe(INT64_MAX);
    expect(envelopeOf(log.at(-1)!).timestampUnixMs).toBe(INT64_MAX);

    const replayed = replayLog(new ModeRegistry(), log);
    expect(replayed.record).toEqual({ ...live, logLength: log.length });
    const text = serializeSessionState(replayed);
    expect(serializeSessionState(deserializeSessionState(text))).toBe(text);
    expect(deserializeSessionState(text).record.expiresAtUnixMs).toBe(live.expiresAtUnixMs);
  });

  it("round-trips a snapshot whose deadline lies beyond 2^53", async () => {
    const { kernel, store } = createHarness();
    const id = newSessionId();
    await kernel.send({ ...sessionStart(id, DECISION, "alice", { participants }), timestampUnixMs: INT64_MAX - 10n }, { sender: "alice" });
    const state = replayLog(new ModeRegistry(), await store.loadLog(id));
    const text = serializeSessionState(state);
    expect(text).toContain('"expiresAtUnixMs":"9223372036854775807"');
    expect(deserializeSessionState(text)).toEqual(state);
  });
});
