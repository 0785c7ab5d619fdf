import { describe, expect, it } from "vitest";
import type { ApiRun, CanonicalEvent } from "../src/api/types.js";
import { formatDuration } from "../src/lib/format.js";
import { SESSION_NODE, buildGraph } from "../src/lib/graph-model.js";
import { describeEvent, messagesOf } from "../src/lib/messages.js";
import { deriveModeView } from "../src/lib/mode-view.js";
import { allowedActions, modeKindOf, summarizeRun } from "../src/lib/run-summary.js";

let seq = 0;
function received(sender: string, messageType: string, payload: Record<string, unknown>, to?: string[]): CanonicalEvent {
  seq += 2;
  return {
    id: `e${seq}`,
    runId: "r",
    seq,
    ts: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    type: "message.received",
    schemaVersion: 3,
    source: { kind: "runtime", name: "macp-runtime", rawType: messageType },
    trace: {},
    data: { sender, messageType, messageId: `m${seq}`, payload: payload as never, ...(to ? { to } : {}) },
  };
}

describe("the participant graph", () => {
  it("adds an edge per recipient, sends messages without recipients to the session node, and marks the newest", () => {
    const messages = messagesOf([
      received("alice", "SessionStart", {}, ["bob", "carol"]),
      received("alice", "Proposal", { proposalId: "p1" }, ["bob", "carol"]),
      received("bob", "Vote", { proposalId: "p1", vote: "approve" }),
      received("_runtime", "SessionSnapshot", {}),
    ]);
    const graph = buildGraph(["alice", "bob", "carol"], messages);
    expect(graph.edges.map((edge) => [edge.from, edge.to, edge.count, edge.lastMessageType])).toEqual([
      ["alice", "bob", 2, "Proposal"],
      ["alice", "carol", 2, "Proposal"],
      ["bob", SESSION_NODE, 1, "Vote"],
    ]);
    expect(graph.nodes.find((node) => node.id === "alice")?.sent).toBe(2);
    expect(graph.nodes.find((node) => node.id === "carol")?.sent).toBe(0);
    expect(graph.latestSeq).toBe(messages[2]?.seq);
    expect(buildGraph(["alice"], []).nodes.map((node) => node.id)).toEqual(["alice"]);
  });
});

describe("mode views", () => {
  it("decision: proposals with their evaluations, objections and votes, and the Commitment", () => {
    const view = deriveModeView(
      "decision",
      messagesOf([
        received("alice", "Proposal", { proposalId: "p1", option: "ship", rationale: "green" }),
        received("bob", "Evaluation", { proposalId: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "fine" }),
        received("carol", "Objection", { proposalId: "p1", reason: "risky", severity: "high" }),
        received("bob", "Vote", { proposalId: "p1", vote: "approve" }),
        received("alice", "Commitment", { action: "ship", reason: "agreed", outcomePositive: true, policyVersion: "policy.default" }),
      ]),
    );
    expect(view.kind).toBe("decision");
    if (view.kind !== "decision") return;
    expect(view.proposals).toHaveLength(1);
    expect(view.proposals[0]?.option).toBe("ship");
    expect(view.proposals[0]?.replies.map((reply) => [reply.by, reply.kind, reply.value])).toEqual([
      ["bob", "evaluation", "APPROVE"],
      ["carol", "objection", "high"],
      ["bob", "vote", "approve"],
    ]);
    expect(view.commitment).toMatchObject({ by: "alice", action: "ship", outcomePositive: true, policyVersion: "policy.default" });
  });

  it("task: assignment and progress up to completion", () => {
    const messages = messagesOf([
      received("alice", "TaskRequest", { taskId: "t1", title: "index", requestedAssignee: "bob" }),
      received("bob", "TaskAccept", { taskId: "t1", assignee: "bob" }),
      received("bob", "TaskUpdate", { taskId: "t1", status: "working", progress: 0.5 }),
    ]);
    const working = deriveModeView("task", messages);
    expect(working.kind === "task" && working.tasks[0]).toMatchObject({ assignee: "bob", status: "working", progress: 50 });
    const done = deriveModeView("task", [...messages, ...messagesOf([received("bob", "TaskComplete", { taskId: "t1", summary: "done" })])]);
    expect(done.kind === "task" && done.tasks[0]).toMatchObject({ status: "completed", progress: 100 });
  });

  it("quorum: the latest ballot of each participant counts against the required approvals", () => {
    const view = deriveModeView(
      "quorum",
      messagesOf([
        received("coordinator", "ApprovalRequest", { requestId: "r1", action: "deploy", requiredApprovals: 2 }),
        received("alice", "Approve", { requestId: "r1" }),
        received("bob", "Reject", { requestId: "r1" }),
        received("bob", "Approve", { requestId: "r1" }),
        received("carol", "Abstain", { requestId: "r1" }),
      ]),
    );
    expect(view.kind === "quorum" && view.requests[0]).toMatchObject({ requiredApprovals: 2, approvals: 2, rejections: 0, abstentions: 1 });
  });

  it("proposal: offers, counter-offers and their answers", () => {
    const view = deriveModeView(
      "proposal",
      messagesOf([
        received("alice", "Proposal", { proposalId: "a", title: "100" }),
        received("bob", "CounterProposal", { proposalId: "b", supersedesProposalId: "a", title: "90" }),
        received("alice", "Reject", { proposalId: "a", terminal: true }),
        received("alice", "Accept", { proposalId: "b" }),
      ]),
    );
    expect(view.kind === "proposal" && view.proposals.map((proposal) => [proposal.id, proposal.supersedes, proposal.status])).toEqual([
      ["a", undefined, "rejected"],
      ["b", "a", "accepted"],
    ]);
  });

  it("handoff: the offer, its context and its disposition", () => {
    const view = deriveModeView(
      "handoff",
      messagesOf([
        received("alice", "HandoffOffer", { handoffId: "h1", targetParticipant: "bob", scope: "billing" }),
        received("alice", "HandoffContext", { handoffId: "h1", contentType: "text/plain" }),
        received("bob", "HandoffDecline", { handoffId: "h1", reason: "busy" }),
      ]),
    );
    expect(view.kind === "handoff" && view.handoffs[0]).toMatchObject({ target: "bob", contexts: 1, disposition: "declined" });
  });

  it("any other mode: message counts", () => {
    const view = deriveModeView("other", messagesOf([received("a", "Contribute", {}), received("b", "Contribute", {})]));
    expect(view.kind === "other" && view.counts).toEqual([{ messageType: "Contribute", count: 2 }]);
  });
});

describe("run summaries", () => {
  const run = (overrides: Partial<ApiRun>): ApiRun => ({
    id: "00000000-0000-4000-8000-000000000001",
    status: "running",
    mode: "live",
    runtimeSessionId: null,
    lastEventSeq: 0,
    sourceRef: null,
    tags: [],
    metadata: { executionRequest: { session: { modeName: "macp.mode.quorum.v1", participants: [{ id: "coordinator" }, { id: "alice" }], metadata: { intent: "deploy" } } } },
    errorCode: null,
    errorMessage: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:01.000Z",
    endedAt: null,
    updatedAt: "2026-01-01T00:00:05.000Z",
    ...overrides,
  });

  it("reads mode, participants and intent from the stored request; an open run's duration runs to now", () => {
    const summary = summarizeRun(run({}), Date.parse("2026-01-01T00:01:01.000Z"));
    expect(summary).toMatchObject({ modeName: "macp.mode.quorum.v1", modeKind: "quorum", participants: ["coordinator", "alice"], intent: "deploy", durationMs: 60_000 });
    expect(summarizeRun(run({ status: "completed", endedAt: "2026-01-01T00:00:04.000Z" }), Date.now()).durationMs).toBe(3000);
    expect(modeKindOf("macp.mode.multi_round.v1")).toBe("other");
    expect(formatDuration(61_000)).toBe("1 min 1 s");
  });

  it("offers cancel while a run is open, suspend while running, resume while suspended", () => {
    expect(allowedActions("running")).toEqual({ cancel: true, suspend: true, resume: false });
    expect(allowedActions("suspended")).toEqual({ cancel: true, suspend: false, resume: true });
    expect(allowedActions("completed")).toEqual({ cancel: false, suspend: false, resume: false });
  });

  it("describes a message event by its sender, recipients and type", () => {
    expect(describeEvent(received("alice", "Proposal", {}, ["bob"]))).toBe("alice → bob: Proposal");
    expect(describeEvent(received("bob", "Vote", {}))).toBe("bob → all: Vote");
  });
});
