import { describe, expect, it } from "vitest";
import { emptyMetricsSummary, foldEvents, emptyRunState, foldMetrics, runCompletedEvent } from "../src/index.js";
import { ingestScript, Pipeline } from "./pipeline.js";
import { decisionScript, failedTaskScript, int64, RUN_ID, receivedAt, taskScript } from "./sessions.js";

describe("replay of whole sessions to their final state", () => {
  it("a decision session: proposal, evaluation, objection, two votes, commitment", () => {
    const p = ingestScript(decisionScript);
    p.emit("run.completed", [runCompletedEvent({ ts: receivedAt(7), runId: RUN_ID, endedAt: receivedAt(7), runtimeSessionId: decisionScript.sessionId, traceId: "trace-1" })]);
    const state = p.state;
    expect(foldEvents(emptyRunState(RUN_ID), p.events)).toEqual(state);
    expect(state.run).toEqual({
      runId: RUN_ID,
      status: "completed",
      modeName: "macp.mode.decision.v1",
      traceId: "trace-1",
      runtimeSessionId: decisionScript.sessionId,
      startedAt: receivedAt(0),
      endedAt: receivedAt(7),
      sessionState: "SESSION_STATE_OPEN",
    });
    expect(state.participants.map((x) => [x.participantId, x.status, x.messageCount, x.latestSummary])).toEqual([
      ["agent://orchestrator", "completed", 3, "Commitment"],
      ["agent://a", "completed", 2, "Vote"],
      ["agent://b", "completed", 2, "Vote"],
    ]);
    expect(state.decision.current).toMatchObject({
      action: "decision.selected",
      confidence: 0.5,
      reasons: ["done"],
      finalized: true,
      proposalId: "c1",
      outcomePositive: true,
      prompt: `decide for ${decisionScript.mode}`,
      resolvedBy: "agent://orchestrator",
      resolvedAt: receivedAt(6),
    });
    expect(state.decision.current!.proposals.map((x) => `${x.participantId}:${x.messageType}:${x.vote ?? "-"}`)).toEqual([
      "agent://orchestrator:Proposal:-",
      "agent://a:Evaluation:-",
      "agent://b:Objection:-",
      "agent://a:Vote:allow",
      "agent://b:Vote:deny",
    ]);
    expect(state.policy).toMatchObject({
      policyVersion: "policy.default",
      quorumStatus: "reached",
      outcomePositive: true,
      voteTally: [{ commitmentId: "p1", allow: 1, deny: 1, threshold: 2, quorum: { required: 3, cast: 2 } }],
    });
    expect(state.timeline.latestSeq).toBe(p.events.at(-1)!.seq);
    expect(state.timeline.totalEvents).toBe(p.events.length);
    expect(state.trace).toEqual({ traceId: "trace-1", spanCount: 1, lastSpanId: "span-1", linkedArtifacts: [] });
    expect(foldMetrics(emptyMetricsSummary(RUN_ID), p.events)).toMatchObject({
      eventCount: p.events.length,
      messageCount: 7,
      proposalCount: 5,
      decisionCount: 1,
      durationMs: 7000,
    });
  });

  it("a task session: request, accept, progress, completion and commitment", () => {
    const state = ingestScript(taskScript).state;
    expect(state.run.status).toBe("completed");
    expect(state.participants.map((x) => [x.participantId, x.status])).toEqual([["agent://planner", "completed"], ["agent://worker", "completed"]]);
    expect(state.progress.entries).toEqual([
      { participantId: "agent://worker", percentage: 50, message: "compiling", ts: receivedAt(3) },
      { participantId: "agent://worker", percentage: 100, message: "completed", ts: receivedAt(4) },
    ]);
    expect(state.decision.current).toMatchObject({ action: "task.completed", finalized: true, proposalId: "c1", outcomePositive: true });
    expect(state.decision.current!.proposals.map((x) => `${x.messageType}:${x.action}`)).toEqual(["TaskRequest:t1", "TaskAccept:t1", "TaskUpdate:t1", "TaskComplete:t1"]);
    expect(state.graph.nodes.map((n) => n.id)).toEqual(["agent://planner", "agent://worker", "__start", "__proposal", "__decision", "__outcome"]);
  });

  it("a failing task session whose session expires: the last active participant fails", () => {
    const p = new Pipeline(failedTaskScript).start().stream();
    p.ingest({
      kind: "session-snapshot",
      metadata: {
        sessionId: failedTaskScript.sessionId, mode: failedTaskScript.mode, state: 3, startedAtUnixMs: int64(0), expiresAtUnixMs: int64(0), modeVersion: "1.0.0",
        configurationVersion: "cfg-1", policyVersion: "", participants: [...failedTaskScript.participants], participantActivity: [], initiator: "agent://planner",
        contextId: "", extensionKeys: [],
      },
      receivedAt: receivedAt(9),
    });
    expect(p.state.run).toMatchObject({ status: "failed", sessionState: "SESSION_STATE_EXPIRED", endedAt: receivedAt(9) });
    expect(p.state.participants.map((x) => [x.participantId, x.status])).toEqual([["agent://planner", "completed"], ["agent://worker", "failed"]]);
    expect(p.state.progress.entries.at(-1)).toEqual({ participantId: "agent://worker", message: "disk full", ts: receivedAt(4) });
    expect(p.state.decision.current?.finalized).toBe(false);
  });

  it("a redelivered raw envelope yields identical events that leave the state unchanged", () => {
    const p = ingestScript(decisionScript);
    const before = p.state;
    const again = new Pipeline(decisionScript).start().stream();
    expect(again.events).toEqual(p.events);
    expect(foldEvents(before, again.events)).toBe(before);
  });
});
