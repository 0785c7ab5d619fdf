import { randomUUID } from "node:crypto";
import { emptyRunState, foldEvents } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { openSse } from "./support/sse-client.js";
import type { SseFrame } from "./support/sse-client.js";
import { waitFor } from "./support/wait.js";
import { commitmentMessage as commitment, modeMessage as message, sendAccepted as accepted } from "./support/agent-messages.js";

const DECISION = "macp.mode.decision.v1";
const TASK = "macp.mode.task.v1";





function launch(modeName: string, kickoff: Record<string, unknown>) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: {
      modeName,
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 60_000,
      participants: [{ id: "alice", role: "lead" }, { id: "bob", role: "worker" }],
      metadata: { intent: "stream me" },
    },
    kickoff: [kickoff],
    execution: { tags: ["e2e-stream"] },
  };
}

const eventFrames = (frames: SseFrame[]) => frames.filter((frame) => frame.event === "canonical_event");

describe("streams, replay and fork end to end against the runtime daemon", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  const schema = freshSchema();

  beforeAll(async () => {
    runtime = await spawnRuntime();
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, DATABASE_SCHEMA: schema, STREAM_BACKOFF_BASE_MS: "20", STREAM_BACKOFF_MAX_MS: "200", STREAM_HEARTBEAT_MS: "200", REPLAY_MAX_DELAY_MS: "20" });
  });
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    await dropSchema(schema);
  });

  const status = (runId: string, wanted: string) =>
    waitFor(`run ${runId} ${wanted}`, async () => {
      const run = (await cp.request("GET", `/runs/${runId}`)).body;
      if (run.status === wanted) return run;
      if (["completed", "failed", "cancelled"].includes(run.status)) throw new Error(`run ended ${run.status}: ${run.errorCode} ${run.errorMessage}`);
      return undefined;
    }, 90_000);
  const storedEvents = async (runId: string): Promise<CanonicalEvent[]> => (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body.data;
  const received = (events: CanonicalEvent[]) => events.filter((event) => event.type === "message.received").map((event) => (event.data as { messageType: string }).messageType);

  /**
   * Follows a run over SSE from the beginning; after the first connection saw `firstUntil`, it
   * drops, `whileAway` runs, and a second connection resumes with Last-Event-ID (its stale
   * `afterSeq=0` must not win) until the terminal frame, while `thenDrive` finishes the run.
   */
  async function followWithReconnect(runId: string, firstUntil: (frame: SseFrame) => boolean, whileAway: () => Promise<void>, thenDrive: () => Promise<void>): Promise<{ events: SseFrame[]; terminal: SseFrame | undefined; snapshot: SseFrame | undefined }> {
    const first = await openSse(`${cp.url}/runs/${runId}/stream?includeSnapshot=true&afterSeq=0`);
    expect(first.status).toBe(200);
    const before = await first.until(firstUntil);
    first.close();
    await whileAway();
    const lastId = eventFrames(before).at(-1)?.id;
    expect(lastId).toBeDefined();
    const second = await openSse(`${cp.url}/runs/${runId}/stream?includeSnapshot=false&afterSeq=0`, { "last-event-id": String(lastId) });
    const driving = thenDrive();
    const after = await second.until((frame) => frame.event === "run_terminal");
    await driving;
    expect(await second.next()).toBeUndefined();
    return { events: [...eventFrames(before), ...eventFrames(after)], terminal: after.at(-1), snapshot: before[0] };
  }

  async function expectReplays(runId: string, events: CanonicalEvent[]): Promise<void> {
    const seqs = events.map((event) => event.seq);
    for (const seq of [seqs[2], seqs[Math.floor(seqs.length / 2)], seqs.at(-1)] as number[]) {
      const state = (await cp.request("GET", `/runs/${runId}/replay/state?seq=${seq}`)).body;
      expect(state).toEqual(JSON.parse(JSON.stringify(foldEvents(emptyRunState(runId), events.filter((event) => event.seq <= seq)))));
    }
    const timed = (await cp.request("POST", `/runs/${runId}/replay`, { body: { mode: "timed", speed: 10 } })).body;
    const timedFrames = await (await openSse(`${cp.url}${timed.streamUrl}`)).until(() => false);
    expect(eventFrames(timedFrames).map((frame) => frame.data)).toEqual(events);
    expect(timedFrames.at(-1)).toMatchObject({ event: "replay_end", data: { lastSeq: seqs.at(-1), count: seqs.length } });

    const step = (await cp.request("POST", `/runs/${runId}/replay`, { body: { mode: "step", fromSeq: seqs[1] } })).body;
    const stepped: number[] = [];
    let cursor: string | undefined;
    for (let request = 0; request < seqs.length + 1; request += 1) {
      const frames = await (await openSse(`${cp.url}${step.streamUrl}`, cursor ? { "last-event-id": cursor } : {})).until(() => false);
      stepped.push(...eventFrames(frames).map((frame) => Number(frame.id)));
      const pause = frames.find((frame) => frame.event === "replay_pause");
      cursor = String(pause?.data.cursor);
      if (pause?.data.done) break;
    }
    expect(stepped).toEqual(seqs.slice(1));
  }

  it("a decision run driven by agents: SSE with a reconnect sees every event once and in order; replay states equal the fold", { timeout: 180_000 }, async () => {
    const created = await cp.request("POST", "/runs", { body: launch(DECISION, { from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }) });
    expect(created.status).toBe(201);
    const { runId, sessionId } = created.body;
    const alice = runtime.client("alice");
    const bob = runtime.client("bob");
    const seen = await followWithReconnect(
      runId,
      (frame) => frame.event === "canonical_event" && frame.data.type === "proposal.created",
      async () => {
        await status(runId, "running");
        await accepted(bob, message(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "looks good" }));
      },
      () => accepted(alice, commitment(DECISION, sessionId, "decision.selected")),
    );
    expect(seen.snapshot?.event).toBe("snapshot");
    expect(seen.terminal?.data).toMatchObject({ runId, status: "completed" });
    const events = await storedEvents(runId);
    expect(seen.events.map((frame) => Number(frame.id))).toEqual(events.map((event) => event.seq));
    expect(seen.events.map((frame) => frame.data)).toEqual(events);
    expect(received(events)).toEqual(["SessionStart", "Proposal", "Vote", "Commitment"]);
    await expectReplays(runId, events);
  });

  it("a task run driven by agents: the same guarantees", { timeout: 180_000 }, async () => {
    const created = await cp.request("POST", "/runs", {
      body: launch(TASK, { from: "alice", to: ["bob"], kind: "request", messageType: "TaskRequest", payload: { task_id: "t1", title: "index", instructions: "index the docs", requested_assignee: "bob" } }),
    });
    expect(created.status).toBe(201);
    const { runId, sessionId } = created.body;
    const alice = runtime.client("alice");
    const bob = runtime.client("bob");
    const seen = await followWithReconnect(
      runId,
      (frame) => frame.event === "canonical_event" && frame.data.type === "proposal.created",
      async () => {
        await status(runId, "running");
        await accepted(bob, message(TASK, sessionId, "TaskAccept", { task_id: "t1", assignee: "bob", reason: "on it" }));
        await accepted(bob, message(TASK, sessionId, "TaskUpdate", { task_id: "t1", status: "working", progress: 0.5, message: "half" }));
      },
      async () => {
        await accepted(bob, message(TASK, sessionId, "TaskComplete", { task_id: "t1", assignee: "bob", summary: "done" }));
        await accepted(alice, commitment(TASK, sessionId, "task.completed"));
      },
    );
    expect(seen.terminal?.data).toMatchObject({ runId, status: "completed" });
    const events = await storedEvents(runId);
    expect(seen.events.map((frame) => Number(frame.id))).toEqual(events.map((event) => event.seq));
    expect(received(events)).toEqual(["SessionStart", "TaskRequest", "TaskAccept", "TaskUpdate", "TaskComplete", "Commitment"]);
    expect(events.filter((event) => event.type === "progress.reported").length).toBeGreaterThan(0);
    await expectReplays(runId, events);
  });

  it("forks a finished run at a seq: a new session replays the accepted messages up to it, each as its sender, then lives on", { timeout: 180_000 }, async () => {
    const created = await cp.request("POST", "/runs", { body: launch(DECISION, { from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }) });
    const { runId, sessionId } = created.body;
    await status(runId, "running");
    const alice = runtime.client("alice");
    const bob = runtime.client("bob");
    await accepted(bob, message(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "looks good" }));
    await accepted(alice, commitment(DECISION, sessionId, "decision.selected"));
    await status(runId, "completed");
    const original = await storedEvents(runId);
    const vote = original.find((event) => event.type === "message.received" && (event.data as { messageType: string }).messageType === "Vote");
    expect(vote).toBeDefined();

    const refused = await cp.request("POST", `/runs/${runId}/fork`, { body: { atSeq: 1 } });
    expect(refused.status).toBe(422);
    expect(refused.body.errorCode).toBe("FORK_NOT_POSSIBLE");
    expect((await cp.request("POST", `/runs/${runId}/fork`, { body: { atSeq: 100_000 } })).status).toBe(400);
    expect((await cp.request("POST", `/runs/${randomUUID()}/fork`, { body: { atSeq: 1 } })).status).toBe(404);

    const fork = await cp.request("POST", `/runs/${runId}/fork`, { body: { atSeq: vote?.seq } });
    expect(fork.status).toBe(201);
    expect(fork.body).toMatchObject({ status: "queued", forkOf: { runId, atSeq: vote?.seq }, messages: 3 });
    expect(fork.body.runId).not.toBe(runId);
    expect(fork.body.sessionId).not.toBe(sessionId);
    await status(fork.body.runId, "running");
    await waitFor("the re-sent Vote", async () => (received(await storedEvents(fork.body.runId)).includes("Vote") ? true : undefined), 90_000);
    const run = (await cp.request("GET", `/runs/${fork.body.runId}`)).body;
    expect(run.tags).toEqual(["e2e-stream", "fork"]);

    // The fork lives on: its participants continue the new session.
    await accepted(alice, commitment(DECISION, fork.body.sessionId, "decision.selected"));
    await status(fork.body.runId, "completed");
    const events = await storedEvents(fork.body.runId);
    expect(received(events)).toEqual(["SessionStart", "Proposal", "Vote", "Commitment"]);
    const sent = events.filter((event) => event.type === "message.sent").map((event) => event.data as { sender: string; messageType: string; ack: { ok: boolean } });
    expect(sent.map((item) => [item.sender, item.messageType, item.ack.ok])).toEqual([
      ["alice", "Proposal", true],
      ["bob", "Vote", true],
    ]);
    const state = (await cp.request("GET", `/runs/${fork.body.runId}/state`)).body;
    expect(state.decision.current).toMatchObject({ finalized: true });
  });
});
