import { appendCapped, booleanField, numberField, objectField, payloadOf, senderOf, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { DecisionBlock, DecisionContribution, DecisionState, Vote } from "./run-state.js";

const POSITIVE_ACTIONS = ["approve", "approved", "accept", "accepted", "selected", "completed", "converged"];
const NEGATIVE_ACTIONS = ["reject", "rejected", "decline", "declined", "failed"];

/**
 * Whether a commitment is a positive outcome: the payload's `outcomePositive` when it was decoded
 * from `CommitmentPayload` or given explicitly, else inferred from the last segment of `action`
 * (approve/accept/selected/completed → true; reject/decline/failed → false; otherwise null).
 */
export function commitmentOutcome(event: CanonicalEvent): boolean | null {
  const payload = payloadOf(event);
  const explicit = booleanField(payload, "outcomePositive") ?? booleanField(payload, "outcome_positive");
  if (explicit !== undefined) return explicit;
  const action = (textField(payload, "action") ?? "").toLowerCase();
  const word = action.split(/[.:/]/).pop() ?? "";
  if (POSITIVE_ACTIONS.includes(word)) return true;
  if (NEGATIVE_ACTIONS.includes(word)) return false;
  return null;
}

const ALLOW_WORDS = ["APPROVE", "APPROVED", "ACCEPT", "ALLOW", "YES"];
const DENY_WORDS = ["REJECT", "REJECTED", "DENY", "NO", "BLOCK"];

/**
 * The ballot a contribution carries: `Vote` by its `vote` text, `Approve`/`Accept` allow, `Reject`
 * deny, `Abstain` abstain; other contributions (evaluations, objections, task updates) carry none.
 */
export function ballotOf(event: CanonicalEvent): Vote | "abstain" | undefined {
  switch (textField(event.data, "messageType")) {
    case "Vote": {
      const vote = (textField(payloadOf(event), "vote") ?? "").toUpperCase();
      if (ALLOW_WORDS.includes(vote)) return "allow";
      if (DENY_WORDS.includes(vote)) return "deny";
      return vote === "ABSTAIN" ? "abstain" : undefined;
    }
    case "Approve":
    case "Accept":
      return "allow";
    case "Reject":
      return "deny";
    case "Abstain":
      return "abstain";
    default:
      return undefined;
  }
}

function reasonsOf(event: CanonicalEvent): string[] {
  const payload = payloadOf(event);
  const reason = textField(payload, "reason") ?? textField(payload, "summary") ?? textField(payload, "rationale");
  return reason === undefined ? [] : [reason];
}

/** Approve ratio of the latest ballot per participant on `action`; `undefined` without ballots. */
function approveRatio(proposals: readonly DecisionContribution[], action: string): number | undefined {
  const latest = new Map<string, Vote>();
  for (const p of proposals) if (p.action === action && p.vote !== undefined) latest.set(p.participantId, p.vote);
  if (latest.size === 0) return undefined;
  let allow = 0;
  for (const vote of latest.values()) if (vote === "allow") allow++;
  return allow / latest.size;
}

function onContribution(block: DecisionBlock, event: CanonicalEvent): DecisionBlock {
  const action = event.subject?.id ?? textField(event.data, "messageId") ?? "";
  const ballot = ballotOf(event);
  const confidence = numberField(payloadOf(event), "confidence");
  const contribution: DecisionContribution = {
    participantId: senderOf(event) ?? "",
    action,
    ...(confidence !== undefined && confidence > 0 ? { confidence } : {}),
    reasons: reasonsOf(event),
    ts: event.ts,
    ...(ballot === "allow" || ballot === "deny" ? { vote: ballot } : {}),
    ...(textField(event.data, "messageType") === undefined ? {} : { messageType: textField(event.data, "messageType")! }),
  };
  const current = block.current;
  const proposals = appendCapped(current?.proposals ?? [], contribution, RUN_STATE_LIMITS.decisionProposals);
  // Once finalized, later contributions are recorded but never reopen the decision (G-6).
  if (current?.finalized) return { ...block, current: { ...current, proposals } };
  const ratio = approveRatio(proposals, action);
  const nextConfidence = ratio ?? contribution.confidence ?? (current?.action === action ? current.confidence : undefined);
  const next: DecisionState = {
    action,
    ...(nextConfidence === undefined ? {} : { confidence: nextConfidence }),
    reasons: contribution.reasons.length > 0 ? contribution.reasons : current?.action === action ? current.reasons : [],
    finalized: false,
    proposalId: action,
    outcomePositive: null,
    ...(block.prompt === undefined ? {} : { prompt: block.prompt }),
    proposals,
  };
  return { ...block, current: next };
}

function onFinalized(block: DecisionBlock, event: CanonicalEvent): DecisionBlock {
  const payload = payloadOf(event);
  const current = block.current;
  const supersedes = objectField(payload, "supersedes");
  const supersededSession = textField(supersedes, "sessionId");
  const resolvedBy = senderOf(event);
  const confidence = current?.confidence;
  const next: DecisionState = {
    action: textField(payload, "action") ?? "resolved",
    ...(confidence === undefined ? {} : { confidence }),
    reasons: reasonsOf(event).slice(0, 1),
    finalized: true,
    proposalId: event.subject?.id ?? textField(payload, "commitmentId") ?? "",
    outcomePositive: commitmentOutcome(event),
    ...(block.prompt === undefined ? {} : { prompt: block.prompt }),
    proposals: current?.proposals ?? [],
    resolvedAt: event.ts,
    ...(resolvedBy === undefined ? {} : { resolvedBy }),
    ...(supersededSession === undefined ? {} : { supersedes: { sessionId: supersededSession, commitmentHash: textField(supersedes, "commitmentHash") ?? "" } }),
  };
  return { ...block, current: next };
}

/** Folds one event into the `decision` block (control-plane.md §3.4, [B] rules). */
export function foldDecision(block: DecisionBlock, event: CanonicalEvent): DecisionBlock {
  switch (event.type) {
    case "message.received": {
      const intent = textField(event.data, "messageType") === "SessionStart" ? textField(payloadOf(event), "intent") : undefined;
      if (intent === undefined) return block;
      return { ...block, prompt: intent, ...(block.current === undefined ? {} : { current: { ...block.current, prompt: intent } }) };
    }
    case "proposal.created":
    case "proposal.updated":
      return onContribution(block, event);
    case "decision.finalized":
      return onFinalized(block, event);
    default:
      return block;
  }
}
