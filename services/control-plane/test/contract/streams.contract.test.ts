import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitmentMessage, modeMessage, sendAccepted } from "../support/agent-messages.js";
import { openSse } from "../support/sse-client.js";
import { completedDecisionRun, DECISION, runningDecisionRun, startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { expectShape, objectWith } from "./support/shape.js";
import { canonicalEvent, replayDescriptor, runStateProjection } from "./support/ui-shapes.js";

/** UI contract, streams and replay (§1.1, §6, §11 useLiveRun, createReplay, getReplayState). */
describe("UI contract: live stream and replay", () => {
  let stack: ContractStack;
  beforeAll(async () => {
    stack = await startContractStack({ STREAM_HEARTBEAT_MS: "300" });
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("SSE /runs/:id/stream?includeSnapshot=true&afterSeq=<lastSeq> (useLiveRun): snapshot, canonical_event with id = seq, heartbeat", { timeout: 180_000 }, async () => {
    const { runId, sessionId } = await runningDecisionRun(stack);
    const state = (await stack.cp.request("GET", `/runs/${runId}/state`)).body;
    const lastSeq: number = state.timeline.latestSeq;

    const stream = await openSse(`${stack.cp.url}/runs/${runId}/stream?includeSnapshot=true&afterSeq=${lastSeq}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const snapshot = await stream.next();
    expect(snapshot?.event).toBe("snapshot");
    expect(snapshot?.id).toBeUndefined();
    expectShape(snapshot?.data, runStateProjection);
    expect(snapshot?.data.timeline.latestSeq).toBeGreaterThanOrEqual(lastSeq);

    const heartbeat = await stream.until((frame) => frame.event === "heartbeat");
    expect(heartbeat.at(-1)).toMatchObject({ event: "heartbeat", id: undefined, data: { ts: expect.any(String) } });

    const bob = stack.runtime.client("bob");
    await sendAccepted(bob, modeMessage(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "fine" }));
    await sendAccepted(stack.runtime.client("alice"), commitmentMessage(DECISION, sessionId, "decision.selected"));
    const frames = await stream.until((frame) => frame.event === "run_terminal");
    stream.close();
    const events = frames.filter((frame) => frame.event === "canonical_event");
    expect(events.length).toBeGreaterThan(0);
    for (const frame of events) {
      expectShape(frame.data, canonicalEvent);
      expect(frame.id).toBe(String(frame.data.seq));
      expect(frame.data.seq).toBeGreaterThan(lastSeq);
    }
    expect(events.map((frame) => frame.data.type)).toEqual(expect.arrayContaining(["decision.finalized", "run.completed"]));
    expect(frames.at(-1)).toMatchObject({ event: "run_terminal", data: { runId, status: "completed" } });
  });

  it("POST /runs/:id/replay {mode: timed, speed: 1} → descriptor; GET /runs/:id/replay/state?seq=N → RunStateProjection", { timeout: 180_000 }, async () => {
    const { runId } = await completedDecisionRun(stack);
    const described = await stack.cp.request("POST", `/runs/${runId}/replay`, { body: { mode: "timed", speed: 1 } });
    expect(described.status).toBe(201);
    expectShape(described.body, replayDescriptor);
    expect(described.body).toMatchObject({ runId, mode: "timed", speed: 1 });

    const events = (await stack.cp.request("GET", `/runs/${runId}/events?limit=500&afterSeq=0`)).body.data;
    const middle = events[Math.floor(events.length / 2)].seq;
    const atMiddle = await stack.cp.request("GET", `/runs/${runId}/replay/state?seq=${middle}`);
    expect(atMiddle.status).toBe(200);
    expectShape(atMiddle.body, runStateProjection);
    expect(atMiddle.body.timeline.latestSeq).toBe(middle);
    const atEnd = await stack.cp.request("GET", `/runs/${runId}/replay/state?seq=${events.at(-1).seq}`);
    expectShape(atEnd.body, objectWith({ run: objectWith({ status: "string" }) }));
    expect(atEnd.body.run.status).toBe("completed");

    // The descriptor's own URLs work as given (the existing control plane's did not, §5.7).
    const replay = await openSse(`${stack.cp.url}${described.body.streamUrl.replace("speed=1", "speed=1000")}`);
    const replayed = await replay.until(() => false);
    expect(replayed.filter((frame) => frame.event === "canonical_event").map((frame) => frame.data.seq)).toEqual(events.map((event: { seq: number }) => event.seq));
    const stateUrl = await stack.cp.request("GET", described.body.stateUrl);
    expect(stateUrl.status).toBe(200);
    expectShape(stateUrl.body, runStateProjection);
  });
});
