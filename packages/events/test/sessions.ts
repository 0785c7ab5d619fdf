// Session scripts for the normalizer and fold tests: the happy paths of the conformance vectors
// (copied here so the tests never read files outside the repository), encoded with the protocol's
// payload encoders into the envelopes a passive StreamSession subscriber receives.
import { Envelope, ModeId, encodePayloadJson } from "@macp/protocol";
import type { RawStreamEnvelope } from "../src/index.js";

export const RUN_ID = "0b6a5a3e-3a53-4b38-9d7c-6d2f0d3c6f01";

export interface ScriptMessage {
  readonly sender: string;
  readonly messageType: string;
  readonly payload: Record<string, unknown>;
}

export interface SessionScript {
  readonly mode: string;
  readonly sessionId: string;
  readonly initiator: string;
  readonly participants: readonly string[];
  readonly messages: readonly ScriptMessage[];
}

function commitment(action: string, outcomePositive = true): Record<string, unknown> {
  return {
    commitment_id: "c1",
    outcome_positive: outcomePositive,
    action,
    authority_scope: "test",
    reason: "done",
    mode_version: "1.0.0",
    policy_version: "",
    configuration_version: "cfg-1",
  };
}

export const decisionScript: SessionScript = {
  mode: ModeId.Decision,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e01",
  initiator: "agent://orchestrator",
  participants: ["agent://orchestrator", "agent://a", "agent://b"],
  messages: [
    { sender: "agent://orchestrator", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready", supporting_data: [] } },
    { sender: "agent://a", messageType: "Evaluation", payload: { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "tests pass" } },
    { sender: "agent://b", messageType: "Objection", payload: { proposal_id: "p1", reason: "friday", severity: "low" } },
    { sender: "agent://a", messageType: "Vote", payload: { proposal_id: "p1", vote: "APPROVE", reason: "good" } },
    { sender: "agent://b", messageType: "Vote", payload: { proposal_id: "p1", vote: "REJECT", reason: "risky" } },
    { sender: "agent://orchestrator", messageType: "Commitment", payload: commitment("decision.selected") },
  ],
};

export const proposalScript: SessionScript = {
  mode: ModeId.Proposal,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e02",
  initiator: "agent://buyer",
  participants: ["agent://buyer", "agent://seller"],
  messages: [
    { sender: "agent://seller", messageType: "Proposal", payload: { proposal_id: "p1", title: "offer", summary: "terms", details: [], tags: [] } },
    { sender: "agent://buyer", messageType: "CounterProposal", payload: { proposal_id: "p2", supersedes_proposal_id: "p1", title: "counter", summary: "lower", details: [] } },
    { sender: "agent://seller", messageType: "Reject", payload: { proposal_id: "p2", terminal: false, reason: "too low" } },
    { sender: "agent://buyer", messageType: "Withdraw", payload: { proposal_id: "p2", reason: "fine" } },
    { sender: "agent://buyer", messageType: "Accept", payload: { proposal_id: "p1", reason: "" } },
    { sender: "agent://seller", messageType: "Accept", payload: { proposal_id: "p1", reason: "" } },
    { sender: "agent://buyer", messageType: "Commitment", payload: commitment("proposal.accepted") },
  ],
};

export const taskScript: SessionScript = {
  mode: ModeId.Task,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e03",
  initiator: "agent://planner",
  participants: ["agent://planner", "agent://worker"],
  messages: [
    { sender: "agent://planner", messageType: "TaskRequest", payload: { task_id: "t1", title: "Build", instructions: "Do it", requested_assignee: "agent://worker", input: [], deadline_unix_ms: 0 } },
    { sender: "agent://worker", messageType: "TaskAccept", payload: { task_id: "t1", assignee: "agent://worker", reason: "ready" } },
    { sender: "agent://worker", messageType: "TaskUpdate", payload: { task_id: "t1", status: "compiling", progress: 0.5, message: "half way", partial_output: [] } },
    { sender: "agent://worker", messageType: "TaskComplete", payload: { task_id: "t1", assignee: "agent://worker", output: "{\"artifact\":\"bin\"}", summary: "done" } },
    { sender: "agent://planner", messageType: "Commitment", payload: commitment("task.completed") },
  ],
};

export const failedTaskScript: SessionScript = {
  ...taskScript,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e04",
  messages: [
    taskScript.messages[0]!,
    taskScript.messages[1]!,
    { sender: "agent://worker", messageType: "TaskReject", payload: { task_id: "t1", assignee: "agent://worker", reason: "busy" } },
    { sender: "agent://worker", messageType: "TaskFail", payload: { task_id: "t1", assignee: "agent://worker", error_code: "E1", reason: "disk full", retryable: true } },
  ],
};

export const handoffScript: SessionScript = {
  mode: ModeId.Handoff,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e05",
  initiator: "agent://owner",
  participants: ["agent://owner", "agent://target"],
  messages: [
    { sender: "agent://owner", messageType: "HandoffOffer", payload: { handoff_id: "h1", target_participant: "agent://target", scope: "support", reason: "escalate" } },
    { sender: "agent://owner", messageType: "HandoffContext", payload: { handoff_id: "h1", content_type: "text/plain", context: "ticket 42" } },
    { sender: "agent://target", messageType: "HandoffDecline", payload: { handoff_id: "h0", declined_by: "agent://target", reason: "old offer" } },
    { sender: "agent://target", messageType: "HandoffAccept", payload: { handoff_id: "h1", accepted_by: "agent://target", reason: "ready" } },
    { sender: "agent://owner", messageType: "Commitment", payload: commitment("handoff.accepted") },
  ],
};

export const quorumScript: SessionScript = {
  mode: ModeId.Quorum,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e06",
  initiator: "agent://coordinator",
  participants: ["agent://coordinator", "agent://alice", "agent://bob", "agent://carol"],
  messages: [
    { sender: "agent://coordinator", messageType: "ApprovalRequest", payload: { request_id: "r1", action: "deploy", summary: "Deploy v2", details: [], required_approvals: 2 } },
    { sender: "agent://alice", messageType: "Approve", payload: { request_id: "r1", reason: "lgtm" } },
    { sender: "agent://carol", messageType: "Abstain", payload: { request_id: "r1", reason: "n/a" } },
    { sender: "agent://bob", messageType: "Reject", payload: { request_id: "r1", reason: "wait" } },
    { sender: "agent://bob", messageType: "Approve", payload: { request_id: "r1", reason: "ship it" } },
    { sender: "agent://coordinator", messageType: "Commitment", payload: commitment("quorum.approved") },
  ],
};

export const multiRoundScript: SessionScript = {
  mode: ModeId.MultiRound,
  sessionId: "5f0c6a4e-8b1d-4c2a-9e3f-1a2b3c4d5e07",
  initiator: "agent://coordinator",
  participants: ["agent://coordinator", "agent://alice", "agent://bob"],
  messages: [
    { sender: "agent://alice", messageType: "Contribute", payload: { value: "option_a" } },
    { sender: "agent://bob", messageType: "Contribute", payload: { value: "option_b" } },
    { sender: "agent://bob", messageType: "Contribute", payload: { value: "option_a" } },
    { sender: "agent://coordinator", messageType: "Commitment", payload: commitment("multi_round.converged") },
  ],
};

/**
 * An int64 value of the generated wire types (`timestampUnixMs`, `startedAtUnixMs`, …) in whichever
 * representation they use, number or bigint, so these tests compile against both.
 */
export function int64(n: number): Envelope["timestampUnixMs"] {
  const sample: unknown = Envelope.fromPartial({}).timestampUnixMs;
  return (typeof sample === "bigint" ? BigInt(n) : n) as Envelope["timestampUnixMs"];
}

/** Receive time of the n-th envelope: one second apart from a fixed instant. */
export function receivedAt(n: number): string {
  return new Date(Date.UTC(2026, 11, 6, 8, 0, n)).toISOString();
}

/** An accepted envelope as the stream delivers it. */
export function envelope(script: SessionScript, index: number, message: ScriptMessage): Envelope {
  return {
    macpVersion: "1.0",
    mode: script.mode,
    messageType: message.messageType,
    messageId: `${script.sessionId.slice(-2)}-m${index}`,
    sessionId: script.sessionId,
    sender: message.sender,
    timestampUnixMs: int64(Date.UTC(2026, 11, 6, 8, 0, index)),
    payload: encodePayloadJson(script.mode, message.messageType, message.payload),
  };
}

/** The SessionStart and then every scripted message, as raw stream events. */
export function rawStream(script: SessionScript): RawStreamEnvelope[] {
  const start: ScriptMessage = {
    sender: script.initiator,
    messageType: "SessionStart",
    payload: {
      intent: `decide for ${script.mode}`,
      participants: [...script.participants],
      mode_version: "1.0.0",
      configuration_version: "cfg-1",
      policy_version: "",
      ttl_ms: 60_000,
    },
  };
  return [start, ...script.messages].map((message, index) => ({
    kind: "stream-envelope",
    envelope: envelope(script, index, message),
    runtimeSequence: index,
    receivedAt: receivedAt(index),
  }));
}
