import type { CanonicalEventType, SubjectKind } from "./event-types.js";
import type { JsonObject } from "./json.js";

/** The derived event of one message type: its canonical type and how to find its subject id. */
interface DerivedRule {
  readonly type: CanonicalEventType;
  readonly subjectKind: SubjectKind;
  /** Payload keys tried in order (camelCase; the snake_case form is tried too); then the message id. */
  readonly idKeys: readonly string[];
}

// Task and handoff ids join the reference's proposalId/requestId chain: without them every task or
// handoff message would get its own message-id subject and the UI could not group them.
const PROPOSAL_ID_KEYS = ["proposalId", "requestId", "taskId", "handoffId"];

const PROPOSAL_CREATED = ["Proposal", "CounterProposal", "ApprovalRequest", "TaskRequest", "HandoffOffer"];
const PROPOSAL_UPDATED = [
  "Evaluation",
  "Objection",
  "Vote",
  "Accept",
  "Reject",
  "Withdraw",
  "Approve",
  "Abstain",
  "TaskAccept",
  "TaskReject",
  "TaskUpdate",
  "TaskComplete",
  "TaskFail",
  "HandoffContext",
  "HandoffAccept",
  "HandoffDecline",
  "Contribute",
];

const RULES = new Map<string, DerivedRule>([
  ["Signal", { type: "signal.emitted", subjectKind: "signal", idKeys: [] }],
  ["SignalAck", { type: "signal.acknowledged", subjectKind: "signal", idKeys: ["signalId"] }],
  ["SignalAcknowledged", { type: "signal.acknowledged", subjectKind: "signal", idKeys: ["signalId"] }],
  ["Commitment", { type: "decision.finalized", subjectKind: "decision", idKeys: ["commitmentId", "decisionId"] }],
  ["Progress", { type: "progress.reported", subjectKind: "message", idKeys: [] }],
  ["PolicyResolved", { type: "policy.resolved", subjectKind: "policy", idKeys: ["policyId", "policyVersion"] }],
  ["PolicyCommitmentEvaluated", { type: "policy.commitment.evaluated", subjectKind: "policy", idKeys: ["policyId", "policyVersion"] }],
  ["PolicyDenied", { type: "policy.denied", subjectKind: "policy", idKeys: ["policyId", "policyVersion"] }],
  ...PROPOSAL_CREATED.map((t): [string, DerivedRule] => [t, { type: "proposal.created", subjectKind: "proposal", idKeys: PROPOSAL_ID_KEYS }]),
  ...PROPOSAL_UPDATED.map((t): [string, DerivedRule] => [t, { type: "proposal.updated", subjectKind: "proposal", idKeys: PROPOSAL_ID_KEYS }]),
]);

const TOOL_CALLED = /^Tool(Call|Request)$/i;
const TOOL_COMPLETED = /^Tool(Result|Completed|Output)$/i;
const TOOL_ID_KEYS = ["toolCallId", "requestId"];

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The first non-empty string among `keys` (camelCase, then snake_case) of `payload`. */
export function firstStringField(payload: JsonObject, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    for (const candidate of [key, snakeCase(key)]) {
      const value = payload[candidate];
      if (typeof value === "string" && value !== "") return value;
    }
  }
  return undefined;
}

/** The derived event of an accepted envelope (§3.2 mapping), or `undefined` for none. */
export function derivedEventOf(
  messageType: string,
  messageId: string,
  payload: JsonObject,
): { type: CanonicalEventType; subject: { kind: SubjectKind; id: string } } | undefined {
  const rule =
    RULES.get(messageType) ??
    (TOOL_CALLED.test(messageType)
      ? { type: "tool.called" as const, subjectKind: "tool" as const, idKeys: TOOL_ID_KEYS }
      : TOOL_COMPLETED.test(messageType)
        ? { type: "tool.completed" as const, subjectKind: "tool" as const, idKeys: TOOL_ID_KEYS }
        : undefined);
  if (rule === undefined) return undefined;
  return { type: rule.type, subject: { kind: rule.subjectKind, id: firstStringField(payload, rule.idKeys) ?? messageId } };
}

/** Message types whose derived event is `proposal.created` (recipients are inferred for them). */
export function createsProposal(messageType: string): boolean {
  return PROPOSAL_CREATED.includes(messageType);
}
