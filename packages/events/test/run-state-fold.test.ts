import { describe, expect, it } from "vitest";
import { RUN_STATE_LIMITS, applyEvent, emptyRunState, foldEvents } from "../src/index.js";
import type { CanonicalEvent, RunStateProjection } from "../src/index.js";
import { EventFactory } from "./events.js";
import { RUN_ID, receivedAt } from "./sessions.js";

function fold(events: CanonicalEvent[]): RunStateProjection {
  return foldEvents(emptyRunState(RUN_ID), events);
}

function bound(f: EventFactory, participants: string[]): CanonicalEvent[] {
  return [
    f.next("session.bound", { sessionId: "s-1", state: "SESSION_STATE_OPEN", modeName: "m", participants, policyVersion: "pol-1" }),
    ...participants.map((p) => f.next("participant.seen", { participantId: p, status: "idle" })),
    f.next("session.state.changed", { sessionId: "s-1", state: "SESSION_STATE_OPEN" }),
  ];
}

describe("applyEvent basics", () => {
  it("ignores an event at or below the version and returns the same object", () => {
    const f = new EventFactory();
    const e1 = f.next("run.created", { status: "queued", modeName: "m" });
    const state = applyEvent(emptyRunState(RUN_ID), e1);
    expect(state.version).toBe(1);
    expect(applyEvent(state, e1)).toBe(state);
  });

  it("never modifies its input and shares the blocks an event does not touch", () => {
    const f = new EventFactory();
    const before = fold([f.next("run.created", {}), ...bound(f, ["a", "b"])]);
    const snapshot = JSON.parse(JSON.stringify(before)) as unknown;
    const after = applyEvent(before, f.received("Proposal", "a", {}, ["b"]));
    expect(JSON.parse(JSON.stringify(before))).toEqual(snapshot);
    expect(after.signals).toBe(before.signals);
    expect(after.llm).toBe(before.llm);
    expect(after.participants).not.toBe(before.participants);
  });

  it("refuses an event of another run", () => {
    const f = new EventFactory();
    const foreign = { ...f.next("run.created"), runId: "11111111-1111-4111-8111-111111111111" };
    expect(() => applyEvent(emptyRunState(RUN_ID), foreign)).toThrow(TypeError);
  });

  it("foldEvents applies in seq order whatever the input order", () => {
    const f = new EventFactory();
    const events = [f.next("run.created", {}), f.next("run.started", { startedAt: receivedAt(2) }), ...bound(f, ["a"])];
    expect(fold([...events].reverse())).toEqual(fold(events));
  });
});

describe("run block", () => {
  it("follows the control plane's lifecycle events", () => {
    const f = new EventFactory();
    let s = fold([f.next("run.created", { status: "queued", modeName: "macp.mode.task.v1", traceId: "t-1", sessionId: "s-1" })]);
    expect(s.run).toEqual({ runId: RUN_ID, status: "queued", modeName: "macp.mode.task.v1", traceId: "t-1", runtimeSessionId: "s-1" });
    s = applyEvent(s, f.next("run.started", { status: "starting", startedAt: "2026-12-06T08:00:02.000Z" }));
    expect(s.run).toMatchObject({ status: "starting", startedAt: "2026-12-06T08:00:02.000Z" });
    s = foldEvents(s, bound(f, ["a"]));
    expect(s.run.status).toBe("running");
    s = applyEvent(s, f.next("run.suspended", { status: "suspended" }));
    expect(s.run.status).toBe("suspended");
    s = applyEvent(s, f.next("run.resumed", { status: "running" }));
    expect(s.run.status).toBe("running");
    s = applyEvent(s, f.next("run.failed", { status: "failed", endedAt: "2026-12-06T09:00:00.000Z", error: "runtime lost" }));
    expect(s.run).toMatchObject({ status: "failed", endedAt: "2026-12-06T09:00:00.000Z", error: "runtime lost" });
    s = applyEvent(s, f.next("run.resumed", {}));
    expect(s.run.status).toBe("failed");
  });

  it("maps session states to statuses; a terminal status is never left by runtime-derived events", () => {
    const f = new EventFactory();
    const base = [f.next("run.created", {}), ...bound(f, ["a"])];
    const to = (state: string) => fold([...base, f.next("session.state.changed", { sessionId: "s-1", state, contextId: "ctx", extensionKeys: ["k"] })]).run;
    expect(to("SESSION_STATE_RESOLVED")).toMatchObject({ status: "completed", sessionState: "SESSION_STATE_RESOLVED", contextId: "ctx", extensionKeys: ["k"] });
    expect(to("SESSION_STATE_EXPIRED").status).toBe("failed");
    expect(to("SESSION_STATE_CANCELLED").status).toBe("cancelled");
    expect(to("SESSION_STATE_SUSPENDED").status).toBe("suspended");
    const g = new EventFactory();
    const s = fold([g.next("run.created", {}), ...bound(g, ["a"]), g.next("session.state.changed", { state: "SESSION_STATE_EXPIRED" }), g.next("session.state.changed", { state: "SESSION_STATE_OPEN" })]);
    expect(s.run.status).toBe("failed");
  });

  it("decision.finalized forces completed", () => {
    const f = new EventFactory();
    const s = fold([f.next("run.created", {}), ...bound(f, ["a"]), f.message("decision.finalized", "Commitment", "a", { action: "x.selected", outcomePositive: true }, "c1")]);
    expect(s.run.status).toBe("completed");
    expect(s.run.endedAt).toBe(receivedAt(5));
  });
});

describe("participants block", () => {
  it("sender active with summary and count, recipients waiting", () => {
    const f = new EventFactory();
    const s = fold([f.next("run.created", {}), ...bound(f, ["a", "b", "c"]), f.received("Proposal", "a", {}, ["b", "c"])]);
    expect(s.participants).toEqual([
      { participantId: "a", status: "active", latestActivityAt: receivedAt(7), latestSummary: "Proposal", messageCount: 1, lastActivitySeq: 7 },
      { participantId: "b", status: "waiting", messageCount: 0 },
      { participantId: "c", status: "waiting", messageCount: 0 },
    ]);
  });

  it("keeps the role of participant.seen (used for voter quorum)", () => {
    const f = new EventFactory();
    const s = fold([f.next("participant.seen", { participantId: "a", role: "voter" })]);
    expect(s.participants[0]).toEqual({ participantId: "a", role: "voter", status: "idle", messageCount: 0 });
  });

  it("terminal sweep: speakers completed, silent ones skipped, and no reactivation afterwards", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("run.created", {}),
      ...bound(f, ["a", "b", "c"]),
      f.received("Proposal", "a", {}, ["b", "c"]),
      f.received("Vote", "b"),
      f.next("run.completed", { status: "completed" }),
      f.received("Vote", "c"),
    ]);
    expect(s.participants.map((p) => [p.participantId, p.status])).toEqual([["a", "completed"], ["b", "completed"], ["c", "skipped"]]);
    expect(s.participants[2]!.messageCount).toBe(1);
  });

  it("on failure the last participant to act is failed", () => {
    const f = new EventFactory();
    const s = fold([f.next("run.created", {}), ...bound(f, ["a", "b", "c"]), f.received("Proposal", "a", {}, ["b"]), f.received("Vote", "b"), f.next("session.state.changed", { state: "SESSION_STATE_EXPIRED" })]);
    expect(s.participants.map((p) => [p.participantId, p.status])).toEqual([["a", "completed"], ["b", "failed"], ["c", "skipped"]]);
  });
});

describe("graph block", () => {
  it("adds participant nodes, synthetic flow nodes and deduplicated edges (b only voted through derived events: skipped)", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("run.created", {}),
      ...bound(f, ["a", "b"]),
      f.message("proposal.created", "Proposal", "a", { proposalId: "p1" }, "p1", { to: ["b"] }),
      f.message("proposal.updated", "Vote", "b", { vote: "APPROVE" }, "p1"),
      f.message("proposal.updated", "Vote", "b", { vote: "APPROVE" }, "p1"),
      f.next("message.sent", { sender: "a", to: ["b"], messageType: "Signal", ack: { ok: true } }),
      f.message("decision.finalized", "Commitment", "a", { action: "d.rejected", outcomePositive: false }, "c1"),
    ]);
    expect(s.graph.nodes.map((n) => `${n.id}:${n.kind}:${n.status}`)).toEqual([
      "a:participant:completed",
      "b:participant:skipped",
      "__start:start:completed",
      "__proposal:proposal:completed",
      "__decision:decision:completed",
      "__outcome:outcome:failed",
    ]);
    expect(s.graph.edges.map((e) => `${e.from}>${e.to}:${e.kind}`)).toEqual([
      "__start>a:session.bound",
      "__start>b:session.bound",
      "a>__proposal:proposes",
      "__proposal>b:review",
      "b>__proposal:vote",
      "a>b:message.sent",
      "__proposal>__decision:resolves",
      "a>__decision:commits",
      "__decision>__outcome:outcome",
    ]);
  });

  it("keeps at most 300 edges, dropping the oldest", () => {
    const f = new EventFactory();
    const recipients = Array.from({ length: 320 }, (_, i) => `r${i}`);
    const s = fold([f.next("message.sent", { sender: "a", to: recipients, messageType: "Signal", ack: { ok: true } })]);
    expect(s.graph.edges).toHaveLength(RUN_STATE_LIMITS.graphEdges);
    expect(s.graph.edges[0]!.to).toBe("r20");
  });

  it("node status is only ever promoted", () => {
    const f = new EventFactory();
    const s = fold([...bound(f, ["a", "b"]), f.received("Vote", "b"), f.received("Proposal", "a", {}, ["b"])]);
    expect(s.participants.find((p) => p.participantId === "b")!.status).toBe("waiting");
    expect(s.graph.nodes.find((n) => n.id === "b")!.status).toBe("active");
  });
});

describe("decision block", () => {
  it("tracks contributions, votes and the approve ratio, then finalizes with outcome and resolver", () => {
    const f = new EventFactory();
    let s = fold([
      f.received("SessionStart", "a", { intent: "pick a vendor" }),
      f.message("proposal.created", "Proposal", "a", { proposalId: "p1", rationale: "cheapest" }, "p1"),
      f.message("proposal.updated", "Evaluation", "b", { proposalId: "p1", confidence: 0.9, reason: "fine" }, "p1"),
    ]);
    expect(s.decision.current).toMatchObject({ action: "p1", confidence: 0.9, reasons: ["fine"], finalized: false, outcomePositive: null, prompt: "pick a vendor" });
    s = foldEvents(s, [
      f.message("proposal.updated", "Vote", "b", { vote: "APPROVE", reason: "ok" }, "p1"),
      f.message("proposal.updated", "Vote", "c", { vote: "reject" }, "p1"),
      f.message("proposal.updated", "Vote", "d", { vote: "APPROVE" }, "p1"),
    ]);
    expect(s.decision.current!.confidence).toBeCloseTo(2 / 3);
    expect(s.decision.current!.proposals.map((p) => p.vote)).toEqual([undefined, undefined, "allow", "deny", "allow"]);
    s = applyEvent(s, f.message("decision.finalized", "Commitment", "a", { commitmentId: "c1", action: "vendor.selected", reason: "majority", outcomePositive: true, supersedes: { sessionId: "old", commitmentHash: "h" } }, "c1"));
    expect(s.decision.current).toMatchObject({
      action: "vendor.selected",
      reasons: ["majority"],
      finalized: true,
      proposalId: "c1",
      outcomePositive: true,
      resolvedAt: receivedAt(7),
      resolvedBy: "a",
      supersedes: { sessionId: "old", commitmentHash: "h" },
      prompt: "pick a vendor",
    });
  });

  it("a late vote never un-finalizes the decision (the reference [A] defect)", () => {
    const f = new EventFactory();
    const final = fold([
      f.message("proposal.created", "Proposal", "a", {}, "p1"),
      f.message("decision.finalized", "Commitment", "a", { action: "x.selected", outcomePositive: true }, "c1"),
    ]);
    const late = applyEvent(final, f.message("proposal.updated", "Vote", "b", { vote: "REJECT" }, "p1"));
    expect(late.decision.current).toMatchObject({ finalized: true, action: "x.selected", proposalId: "c1", outcomePositive: true });
    expect(late.decision.current!.proposals).toHaveLength(2);
  });

  it("infers outcomePositive from the action when the payload has no flag", () => {
    const outcome = (action: string) => fold([new EventFactory().message("decision.finalized", "Commitment", "a", { action }, "c1")]).decision.current!.outcomePositive;
    expect(outcome("task.completed")).toBe(true);
    expect(outcome("proposal.declined")).toBe(false);
    expect(outcome("custom.thing")).toBe(null);
  });

  it("keeps at most 50 contributions", () => {
    const f = new EventFactory();
    const s = fold(Array.from({ length: 60 }, (_, i) => f.message("proposal.updated", "Evaluation", `p${i}`, {}, "x")));
    expect(s.decision.current!.proposals).toHaveLength(RUN_STATE_LIMITS.decisionProposals);
    expect(s.decision.current!.proposals[0]!.participantId).toBe("p10");
  });
});

describe("signals, progress, timeline, trace, outbound and llm blocks", () => {
  it("signals: emitted with name, severity, confidence; acknowledged by id", () => {
    const f = new EventFactory();
    const s = fold([
      f.message("signal.emitted", "Signal", "a", { signalType: "risk.raised", confidence: 0.4 }, "sig-1", { signalData: { severity: "high", note: "x" } }),
      f.message("signal.acknowledged", "SignalAck", "b", { signalId: "sig-1" }, "sig-1"),
      f.message("signal.acknowledged", "SignalAck", "b", {}, "unknown"),
    ]);
    expect(s.signals.signals).toEqual([
      { id: "sig-1", name: "risk.raised", severity: "high", sourceParticipantId: "a", ts: receivedAt(1), confidence: 0.4, payload: { severity: "high", note: "x" }, acknowledgedAt: receivedAt(2), acknowledgedBy: "b" },
    ]);
  });

  it("signals: capped at 200", () => {
    const f = new EventFactory();
    const s = fold(Array.from({ length: 205 }, (_, i) => f.message("signal.emitted", "Signal", "a", {}, `s${i}`)));
    expect(s.signals.signals).toHaveLength(RUN_STATE_LIMITS.signals);
    expect(s.signals.signals[0]!.id).toBe("s5");
  });

  it("progress: one entry per report, capped at 100", () => {
    const f = new EventFactory();
    const s = fold(Array.from({ length: 101 }, (_, i) => f.next("progress.reported", { sender: "w", decodedPayload: { percentage: i % 100, message: `step ${i}` } })));
    expect(s.progress.entries).toHaveLength(RUN_STATE_LIMITS.progressEntries);
    expect(s.progress.entries.at(-1)).toEqual({ participantId: "w", percentage: 0, message: "step 100", ts: receivedAt(101) });
  });

  it("timeline: latest seq, total and the 50 most recent", () => {
    const f = new EventFactory();
    const s = fold(Array.from({ length: 55 }, () => f.next("session.stream.opened", { status: "opened" }, { subject: { kind: "session", id: "s-1" } })));
    expect(s.timeline.latestSeq).toBe(55);
    expect(s.timeline.totalEvents).toBe(55);
    expect(s.timeline.recent).toHaveLength(RUN_STATE_LIMITS.timelineRecent);
    expect(s.timeline.recent[0]).toMatchObject({ seq: 6, type: "session.stream.opened", subject: { kind: "session", id: "s-1" } });
  });

  it("trace: first trace id, span count, last span, linked artifacts without duplicates", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("run.created", {}, { trace: { traceId: "t-1", spanId: "sp-1" } }),
      f.next("run.started", {}, { trace: { traceId: "t-2" } }),
      f.next("artifact.created", { artifactId: "art-1", kind: "trace", label: "Root" }, { trace: { traceId: "t-1", spanId: "sp-2" } }),
      f.next("artifact.created", { artifactId: "art-1", kind: "trace", label: "Root" }),
    ]);
    expect(s.trace).toEqual({ traceId: "t-1", spanCount: 2, lastSpanId: "sp-2", linkedArtifacts: ["art-1"] });
  });

  it("outboundMessages: accepted, refused and failed sends are counted and persist in the block", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("message.sent", { sender: "a", to: [], messageType: "Proposal", ack: { ok: true } }),
      f.next("message.sent", { sender: "a", to: [], messageType: "Vote", ack: { ok: false } }),
      f.next("message.send_failed", { errorCode: "FORBIDDEN" }),
    ]);
    expect(s.outboundMessages).toEqual({ total: 3, queued: 0, accepted: 1, rejected: 2 });
    const resumed = applyEvent(JSON.parse(JSON.stringify(s)) as RunStateProjection, f.next("message.sent", { ack: { ok: true } }));
    expect(resumed.outboundMessages).toEqual({ total: 4, queued: 0, accepted: 2, rejected: 2 });
  });

  it("llm: calls priced by model prefix, totals over every call", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("llm.call.completed", { participantId: "a", messageId: "m1", decodedPayload: { promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000, model: "gpt-4o-mini-2024-07-18", latencyMs: 12 } }),
      f.next("llm.call.completed", { sender: "b", decodedPayload: { promptTokens: 500_000, completionTokens: 0 } }),
    ]);
    expect(s.llm.calls[0]).toEqual({ participantId: "a", model: "gpt-4o-mini-2024-07-18", promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000, latencyMs: 12, ts: receivedAt(1), messageId: "m1", estimatedCostUsd: 0.75 });
    expect(s.llm.calls[1]).toMatchObject({ participantId: "b", totalTokens: 500_000, estimatedCostUsd: 0.5 });
    expect(s.llm.totals).toEqual({ callCount: 2, promptTokens: 1_500_000, completionTokens: 1_000_000, totalTokens: 2_500_000, estimatedCostUsd: 1.25 });
  });
});

describe("policy block", () => {
  it("policy version from the binding; vote tally per proposal with latest ballot per voter", () => {
    const f = new EventFactory();
    let s = fold([
      ...bound(f, ["a", "b", "c", "d"]),
      f.message("proposal.updated", "Vote", "b", { vote: "REJECT" }, "p1"),
      f.message("proposal.updated", "Vote", "b", { vote: "APPROVE" }, "p1"),
      f.message("proposal.updated", "Evaluation", "c", { recommendation: "APPROVE" }, "p1"),
    ]);
    expect(s.policy.policyVersion).toBe("pol-1");
    expect(s.policy.voteTally).toEqual([{ commitmentId: "p1", allow: 1, deny: 0, threshold: 2, quorum: { required: 4, cast: 1 }, ballots: { b: "allow" } }]);
    expect(s.policy.quorumStatus).toBe("pending");
    s = applyEvent(s, f.message("proposal.updated", "Vote", "c", { vote: "APPROVE" }, "p1"));
    expect(s.policy.quorumStatus).toBe("reached");
  });

  it("required counts only voter-role participants when there are some", () => {
    const f = new EventFactory();
    const s = fold([
      f.next("participant.seen", { participantId: "a" }),
      f.next("participant.seen", { participantId: "v1", role: "voter" }),
      f.next("participant.seen", { participantId: "v2", role: "voter" }),
      f.message("proposal.updated", "Vote", "v1", { vote: "REJECT" }, "p1"),
      f.message("proposal.updated", "Vote", "v2", { vote: "REJECT" }, "p1"),
    ]);
    expect(s.policy.voteTally![0]).toMatchObject({ threshold: 1, quorum: { required: 2, cast: 2 }, deny: 2 });
    expect(s.policy.quorumStatus).toBe("failed");
  });

  it("a quorum request's required approvals is the threshold", () => {
    const f = new EventFactory();
    const s = fold([
      ...bound(f, ["co", "x", "y", "z"]),
      f.message("proposal.created", "ApprovalRequest", "co", { requestId: "r1", requiredApprovals: 3 }, "r1"),
      f.message("proposal.updated", "Approve", "x", {}, "r1"),
      f.message("proposal.updated", "Approve", "y", {}, "r1"),
    ]);
    expect(s.policy.voteTally![0]).toMatchObject({ commitmentId: "r1", requiredApprovals: 3, threshold: 3, allow: 2 });
    expect(s.policy.quorumStatus).toBe("pending");
  });

  it("policy events: resolved, commitment evaluations (allow reaches), denials", () => {
    const f = new EventFactory();
    const s = fold([
      f.message("policy.resolved", "PolicyResolved", "_runtime", { policyVersion: "pol-9", description: "majority", expectedCommitments: ["c1"] }, "pol-9"),
      f.message("policy.denied", "PolicyDenied", "_runtime", { decision: "deny", reasons: ["too early"] }, "pol-9"),
      f.message("policy.commitment.evaluated", "PolicyCommitmentEvaluated", "_runtime", { commitmentId: "c1", decision: "allow", reasons: [] }, "pol-9"),
    ]);
    expect(s.policy).toMatchObject({ policyVersion: "pol-9", policyDescription: "majority", expectedCommitments: ["c1"], quorumStatus: "reached" });
    expect(s.policy.commitmentEvaluations.map((e) => [e.commitmentId, e.decision, e.reasons])).toEqual([["msg-2", "deny", ["too early"]], ["c1", "allow", []]]);
  });

  it("decision.finalized settles the status; late ballots count but do not change it", () => {
    const f = new EventFactory();
    const s = fold([
      ...bound(f, ["a", "b"]),
      f.message("proposal.updated", "Vote", "a", { vote: "REJECT" }, "p1"),
      f.message("decision.finalized", "Commitment", "a", { action: "x.rejected", outcomePositive: false }, "c1"),
      f.message("proposal.updated", "Vote", "b", { vote: "APPROVE" }, "p1"),
    ]);
    expect(s.policy).toMatchObject({ quorumStatus: "failed", outcomePositive: false, resolvedAt: receivedAt(6) });
    expect(s.policy.voteTally![0]).toMatchObject({ allow: 1, deny: 1 });
  });

  it("a failed or cancelled run without an allow fails the quorum", () => {
    const f = new EventFactory();
    const pending = fold([...bound(f, ["a", "b"]), f.message("proposal.updated", "Vote", "a", { vote: "REJECT" }, "p1")]);
    expect(pending.policy.quorumStatus).toBe("pending");
    expect(applyEvent(pending, f.next("run.cancelled", { status: "cancelled" })).policy.quorumStatus).toBe("failed");
  });
});
