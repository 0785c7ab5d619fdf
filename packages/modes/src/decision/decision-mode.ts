import { isBlank, MacpError, ModeId, type SessionStartPayload, type decision } from "@macp/protocol";
import { evaluateDecisionTally, type JsonValue } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "../commitment-rules.js";
import {
  DECISION_STATE,
  countEvaluation,
  countObjection,
  countVote,
  decisionTally,
  initialDecisionState,
  type DecisionState,
} from "./decision-state.js";
import { PersistentMap } from "../state/persistent-map.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant } from "../participants.js";
import { decodeModePayload } from "../payload-decoding.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

const RECOMMENDATIONS = ["APPROVE", "REVIEW", "BLOCK", "REJECT"];
const SEVERITIES = ["critical", "high", "medium", "low"];
const VOTES = ["APPROVE", "REJECT", "ABSTAIN"];
const PARTICIPANT_TYPES = ["Proposal", "Evaluation", "Objection", "Vote"];

/** §5.4: unlike other modes, Decision answers FORBIDDEN for types it does not know. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  if (envelope.messageType === "Commitment") return authorizeCommitment(session, envelope.sender);
  if (!PARTICIPANT_TYPES.includes(envelope.messageType)) {
    return forbidden(`message type '${envelope.messageType}' is not allowed in decision mode`);
  }
  return isParticipant(session, envelope.sender)
    ? undefined
    : forbidden(`${envelope.sender} is not a declared participant`);
}

function requireProposal(state: DecisionState, proposalId: string): void {
  if (!state.proposals.has(proposalId)) throw invalidPayload(`unknown proposal '${proposalId}'`);
}

function applyProposal(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  // The proposal set is frozen once voting starts; this is checked before the payload is read.
  if (state.phase === "Voting") throw invalidPayload("proposals are closed once voting has started");
  const payload = decodeModePayload<decision.ProposalPayload>(ModeId.Decision, "Proposal", envelope.payload);
  if (isBlank(payload.proposalId)) throw invalidPayload("proposal_id must not be blank");
  if (isBlank(payload.option)) throw invalidPayload("option must not be blank");
  if (state.proposals.has(payload.proposalId)) throw invalidPayload(`proposal '${payload.proposalId}' already exists`);
  const proposals = state.proposals.set(payload.proposalId, {
    proposal_id: payload.proposalId,
    option: payload.option,
    rationale: payload.rationale,
    sender: envelope.sender,
  });
  return { ...state, proposals, phase: "Evaluation" };
}

function applyEvaluation(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload<decision.EvaluationPayload>(ModeId.Decision, "Evaluation", envelope.payload);
  const recommendation = payload.recommendation.toUpperCase();
  if (!RECOMMENDATIONS.includes(recommendation)) throw invalidPayload(`unknown recommendation '${payload.recommendation}'`);
  // NaN fails here too: the reference lets it through and then cannot re-read its own state.
  if (!(payload.confidence >= 0 && payload.confidence <= 1)) throw invalidPayload("confidence must be within 0.0..=1.0");
  if (state.phase !== "Evaluation") throw invalidPayload(`evaluations are not accepted in phase ${state.phase}`);
  requireProposal(state, payload.proposalId);
  const evaluation = {
    proposal_id: payload.proposalId,
    recommendation,
    confidence: payload.confidence,
    reason: payload.reason,
    sender: envelope.sender,
  };
  return { ...state, evaluations: state.evaluations.append(evaluation), counts: countEvaluation(state.counts, evaluation) };
}

function applyObjection(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload<decision.ObjectionPayload>(ModeId.Decision, "Objection", envelope.payload);
  const severity = payload.severity === "" ? "medium" : payload.severity.toLowerCase();
  if (!SEVERITIES.includes(severity)) throw invalidPayload(`unknown severity '${payload.severity}'`);
  if (state.phase !== "Evaluation") throw invalidPayload(`objections are not accepted in phase ${state.phase}`);
  requireProposal(state, payload.proposalId);
  const objection = { proposal_id: payload.proposalId, reason: payload.reason, severity, sender: envelope.sender };
  return { ...state, objections: state.objections.append(objection), counts: countObjection(state.counts, objection) };
}

function applyVote(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload<decision.VotePayload>(ModeId.Decision, "Vote", envelope.payload);
  const vote = payload.vote.toUpperCase();
  if (!VOTES.includes(vote)) throw invalidPayload(`unknown vote '${payload.vote}'`);
  if (state.phase !== "Evaluation" && state.phase !== "Voting") {
    throw invalidPayload(`votes are not accepted in phase ${state.phase}`);
  }
  requireProposal(state, payload.proposalId);
  const existing = state.votes.get(payload.proposalId) ?? PersistentMap.empty();
  if (existing.has(envelope.sender)) throw invalidPayload(`${envelope.sender} already voted on '${payload.proposalId}'`);
  const record = { proposal_id: payload.proposalId, vote, reason: payload.reason, sender: envelope.sender };
  const byProposal = existing.set(envelope.sender, record);
  return {
    ...state,
    votes: state.votes.set(payload.proposalId, byProposal),
    phase: "Voting",
    counts: countVote(state.counts, record),
  };
}

function applyCommitment(session: SessionView, state: DecisionState, envelope: ModeEnvelope): ModeOutcome {
  const commitment = validateCommitment(session, envelope.payload);
  if (state.proposals.size === 0) throw invalidPayload("a commitment needs at least one proposal");
  const verdict = evaluateDecisionTally(session.policy, decisionTally(state), session.participants, commitment.outcomePositive);
  if (!verdict.allowed) return rejected(MacpError.policyDenied(verdict.reasons));
  return accepted(DECISION_STATE.json({ ...state, phase: "Committed" }), envelope.payload);
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = DECISION_STATE.read(stored);
  if (state.phase === "Committed") return rejected(new MacpError("SessionNotOpen", "the decision is already committed"));
  switch (envelope.messageType) {
    case "Proposal":
      return accepted(DECISION_STATE.json(applyProposal(state, envelope)));
    case "Evaluation":
      return accepted(DECISION_STATE.json(applyEvaluation(state, envelope)));
    case "Objection":
      return accepted(DECISION_STATE.json(applyObjection(state, envelope)));
    case "Vote":
      return accepted(DECISION_STATE.json(applyVote(state, envelope)));
    default:
      return applyCommitment(session, state, envelope);
  }
}

/**
 * `macp.mode.decision.v1` (modes-and-policy.md §5): proposals, evaluations, objections and votes
 * from declared participants, then a Commitment judged by the bound policy's voting rules.
 */
export const decisionMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length === 0) return rejected(invalidPayload("decision mode needs at least one participant"));
    return accepted(DECISION_STATE.json(initialDecisionState()));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};
