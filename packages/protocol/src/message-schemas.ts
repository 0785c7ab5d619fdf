import {
  messageSchema,
  nested,
  repeatedNested,
  repeatedScalar,
  scalar,
  stringMap,
} from "./wire-schema.js";
import type { MessageSchema } from "./wire-schema.js";

const V1 = "macp.v1";

/** `macp.v1.Envelope`. */
export const envelopeSchema = messageSchema(`${V1}.Envelope`, [
  scalar(1, "macp_version", "string"),
  scalar(2, "mode", "string"),
  scalar(3, "message_type", "string"),
  scalar(4, "message_id", "string"),
  scalar(5, "session_id", "string"),
  scalar(6, "sender", "string"),
  scalar(7, "timestamp_unix_ms", "int64"),
  scalar(8, "payload", "bytes"),
]);

const root = messageSchema(`${V1}.Root`, [scalar(1, "uri", "string"), scalar(2, "name", "string")]);

const commitmentRef = messageSchema(`${V1}.CommitmentRef`, [
  scalar(1, "session_id", "string"),
  scalar(2, "commitment_hash", "string"),
]);

/** Payload schemas of the core message types (wire.md §4.1), keyed by proto message name. */
export const corePayloadSchemas = {
  SessionStartPayload: messageSchema(`${V1}.SessionStartPayload`, [
    scalar(1, "intent", "string"),
    repeatedScalar(2, "participants", "string"),
    scalar(3, "mode_version", "string"),
    scalar(4, "configuration_version", "string"),
    scalar(5, "policy_version", "string"),
    scalar(6, "ttl_ms", "int64"),
    repeatedNested(7, "roots", root),
    scalar(8, "context_id", "string"),
    stringMap(`${V1}.SessionStartPayload`, 9, "extensions", "bytes"),
  ]),
  CommitmentPayload: messageSchema(`${V1}.CommitmentPayload`, [
    scalar(1, "commitment_id", "string"),
    scalar(2, "action", "string"),
    scalar(3, "authority_scope", "string"),
    scalar(4, "reason", "string"),
    scalar(5, "mode_version", "string"),
    scalar(6, "policy_version", "string"),
    scalar(7, "configuration_version", "string"),
    scalar(8, "outcome_positive", "bool"),
    nested(9, "supersedes", commitmentRef),
  ]),
  SignalPayload: messageSchema(`${V1}.SignalPayload`, [
    scalar(1, "signal_type", "string"),
    scalar(2, "data", "bytes"),
    scalar(3, "confidence", "double"),
    scalar(4, "correlation_session_id", "string"),
  ]),
  ProgressPayload: messageSchema(`${V1}.ProgressPayload`, [
    scalar(1, "progress_token", "string"),
    scalar(2, "progress", "double"),
    scalar(3, "total", "double"),
    scalar(4, "message", "string"),
    scalar(5, "target_message_id", "string"),
  ]),
  SessionCancelPayload: messageSchema(`${V1}.SessionCancelPayload`, [
    scalar(1, "reason", "string"),
    scalar(2, "cancelled_by", "string"),
  ]),
  SessionSuspendPayload: messageSchema(`${V1}.SessionSuspendPayload`, [
    scalar(1, "reason", "string"),
    scalar(2, "suspended_by", "string"),
  ]),
  SessionResumePayload: messageSchema(`${V1}.SessionResumePayload`, [
    scalar(1, "reason", "string"),
    scalar(2, "resumed_by", "string"),
    scalar(3, "banked_ms", "int64"),
  ]),
} as const satisfies Record<string, MessageSchema>;

const DECISION = "macp.modes.decision.v1";

/** `macp.modes.decision.v1` payload schemas. */
export const decisionPayloadSchemas = {
  ProposalPayload: messageSchema(`${DECISION}.ProposalPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "option", "string"),
    scalar(3, "rationale", "string"),
    scalar(4, "supporting_data", "bytes"),
  ]),
  EvaluationPayload: messageSchema(`${DECISION}.EvaluationPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "recommendation", "string"),
    scalar(3, "confidence", "double"),
    scalar(4, "reason", "string"),
  ]),
  ObjectionPayload: messageSchema(`${DECISION}.ObjectionPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "reason", "string"),
    scalar(3, "severity", "string"),
  ]),
  VotePayload: messageSchema(`${DECISION}.VotePayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "vote", "string"),
    scalar(3, "reason", "string"),
  ]),
} as const satisfies Record<string, MessageSchema>;

const PROPOSAL = "macp.modes.proposal.v1";

/** `macp.modes.proposal.v1` payload schemas. */
export const proposalPayloadSchemas = {
  ProposalPayload: messageSchema(`${PROPOSAL}.ProposalPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "title", "string"),
    scalar(3, "summary", "string"),
    scalar(4, "details", "bytes"),
    repeatedScalar(5, "tags", "string"),
  ]),
  CounterProposalPayload: messageSchema(`${PROPOSAL}.CounterProposalPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "supersedes_proposal_id", "string"),
    scalar(3, "title", "string"),
    scalar(4, "summary", "string"),
    scalar(5, "details", "bytes"),
  ]),
  AcceptPayload: messageSchema(`${PROPOSAL}.AcceptPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "reason", "string"),
  ]),
  RejectPayload: messageSchema(`${PROPOSAL}.RejectPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "terminal", "bool"),
    scalar(3, "reason", "string"),
  ]),
  WithdrawPayload: messageSchema(`${PROPOSAL}.WithdrawPayload`, [
    scalar(1, "proposal_id", "string"),
    scalar(2, "reason", "string"),
  ]),
} as const satisfies Record<string, MessageSchema>;

const TASK = "macp.modes.task.v1";

/** `macp.modes.task.v1` payload schemas. */
export const taskPayloadSchemas = {
  TaskRequestPayload: messageSchema(`${TASK}.TaskRequestPayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "title", "string"),
    scalar(3, "instructions", "string"),
    scalar(4, "requested_assignee", "string"),
    scalar(5, "input", "bytes"),
    scalar(6, "deadline_unix_ms", "int64"),
  ]),
  TaskAcceptPayload: messageSchema(`${TASK}.TaskAcceptPayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "assignee", "string"),
    scalar(3, "reason", "string"),
  ]),
  TaskRejectPayload: messageSchema(`${TASK}.TaskRejectPayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "assignee", "string"),
    scalar(3, "reason", "string"),
  ]),
  TaskUpdatePayload: messageSchema(`${TASK}.TaskUpdatePayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "status", "string"),
    scalar(3, "progress", "double"),
    scalar(4, "message", "string"),
    scalar(5, "partial_output", "bytes"),
  ]),
  TaskCompletePayload: messageSchema(`${TASK}.TaskCompletePayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "assignee", "string"),
    scalar(3, "output", "bytes"),
    scalar(4, "summary", "string"),
  ]),
  TaskFailPayload: messageSchema(`${TASK}.TaskFailPayload`, [
    scalar(1, "task_id", "string"),
    scalar(2, "assignee", "string"),
    scalar(3, "error_code", "string"),
    scalar(4, "reason", "string"),
    scalar(5, "retryable", "bool"),
  ]),
} as const satisfies Record<string, MessageSchema>;

const HANDOFF = "macp.modes.handoff.v1";

/** `macp.modes.handoff.v1` payload schemas. */
export const handoffPayloadSchemas = {
  HandoffOfferPayload: messageSchema(`${HANDOFF}.HandoffOfferPayload`, [
    scalar(1, "handoff_id", "string"),
    scalar(2, "target_participant", "string"),
    scalar(3, "scope", "string"),
    scalar(4, "reason", "string"),
  ]),
  HandoffContextPayload: messageSchema(`${HANDOFF}.HandoffContextPayload`, [
    scalar(1, "handoff_id", "string"),
    scalar(2, "content_type", "string"),
    scalar(3, "context", "bytes"),
  ]),
  HandoffAcceptPayload: messageSchema(`${HANDOFF}.HandoffAcceptPayload`, [
    scalar(1, "handoff_id", "string"),
    scalar(2, "accepted_by", "string"),
    scalar(3, "reason", "string"),
  ]),
  HandoffDeclinePayload: messageSchema(`${HANDOFF}.HandoffDeclinePayload`, [
    scalar(1, "handoff_id", "string"),
    scalar(2, "declined_by", "string"),
    scalar(3, "reason", "string"),
  ]),
} as const satisfies Record<string, MessageSchema>;

const QUORUM = "macp.modes.quorum.v1";

/** `macp.modes.quorum.v1` payload schemas. */
export const quorumPayloadSchemas = {
  ApprovalRequestPayload: messageSchema(`${QUORUM}.ApprovalRequestPayload`, [
    scalar(1, "request_id", "string"),
    scalar(2, "action", "string"),
    scalar(3, "summary", "string"),
    scalar(4, "details", "bytes"),
    scalar(5, "required_approvals", "uint32"),
  ]),
  ApprovePayload: messageSchema(`${QUORUM}.ApprovePayload`, [
    scalar(1, "request_id", "string"),
    scalar(2, "reason", "string"),
  ]),
  RejectPayload: messageSchema(`${QUORUM}.RejectPayload`, [
    scalar(1, "request_id", "string"),
    scalar(2, "reason", "string"),
  ]),
  AbstainPayload: messageSchema(`${QUORUM}.AbstainPayload`, [
    scalar(1, "request_id", "string"),
    scalar(2, "reason", "string"),
  ]),
} as const satisfies Record<string, MessageSchema>;

/** `macp.modes.multi_round.v1` payload schemas. */
export const multiRoundPayloadSchemas = {
  ContributePayload: messageSchema("macp.modes.multi_round.v1.ContributePayload", [
    scalar(1, "value", "string"),
  ]),
} as const satisfies Record<string, MessageSchema>;
