import { MacpError, decision, type SessionStartPayload } from "@macp/protocol";
import { evaluateDecision, type JsonValue } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "./commitment-rules.js";
import {
  INITIAL_DECISION_STATE,
  decisionPolicyInput,
  readDecisionState,
  writeDecisionState,
  type DecisionState,
} from "./decision-state.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "./mode-handler.js";
import { isParticipant } from "./participants.js";
import { decodeModePayload } from "./payload-decoding.js";
import { isBlank } from "./text.js";

const RECOMMENDATIONS = ["APPROVE", "REVIEW", "BLOCK", "REJECT"];
const SEVERITIES = ["critical", "high", "medium", "low"];
const VOTES = ["APPROVE", "REJECT", "ABSTAIN"];
const PARTICIPANT_TYPES = ["Proposal", "Evaluation", "Objection", "Vote"];

function invalid(message: string): MacpError {
  return new MacpError("InvalidPayload", message);
}

/** §5.4: unlike other modes, Decision answers FORBIDDEN for types it does not know. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  if (envelope.messageType === "Commitment") return authorizeCommitment(session, envelope.sender);
  if (!PARTICIPANT_TYPES.includes(envelope.messageType)) {
    return new MacpError("Forbidden", `message type '${envelope.messageType}' is not allowed in decision mode`);
  }
  return isParticipant(session, envelope.sender)
    ? undefined
    : new MacpError("Forbidden", `${envelope.sender} is not a declared participant`);
}

function requireProposal(state: DecisionState, proposalId: string): void {
  if (!state.proposals.has(proposalId)) throw invalid(`unknown proposal '${proposalId}'`);
}

function applyProposal(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  // The proposal set is frozen once voting starts; this is checked before the payload is read.
  if (state.phase === "Voting") throw invalid("proposals are closed once voting has started");
  const payload = decodeModePayload(decision.ProposalPayload, envelope.payload, "Proposal");
  if (isBlank(payload.proposalId)) throw invalid("proposal_id must not be blank");
  if (isBlank(payload.option)) throw invalid("option must not be blank");
  if (state.proposals.has(payload.proposalId)) throw invalid(`proposal '${payload.proposalId}' already exists`);
  const proposals = new Map(state.proposals);
  proposals.set(payload.proposalId, {
    proposal_id: payload.proposalId,
    option: payload.option,
    rationale: payload.rationale,
    sender: envelope.sender,
  });
  return { ...state, proposals, phase: "Evaluation" };
}

function applyEvaluation(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload(decision.EvaluationPayload, envelope.payload, "Evaluation");
  const recommendation = payload.recommendation.toUpperCase();
  if (!RECOMMENDATIONS.includes(recommendation)) throw invalid(`unknown recommendation '${payload.recommendation}'`);
  // NaN fails here too: the reference lets it through and then cannot re-read its own state.
  if (!(payload.confidence >= 0 && payload.confidence <= 1)) throw invalid("confidence must be within 0.0..=1.0");
  if (state.phase !== "Evaluation") throw invalid(`evaluations are not accepted in phase ${state.phase}`);
  requireProposal(state, payload.proposalId);
  const evaluation = {
    proposal_id: payload.proposalId,
    recommendation,
    confidence: payload.confidence,
    reason: payload.reason,
    sender: envelope.sender,
  };
  return { ...state, evaluations: [...state.evaluations, evaluation] };
}

function applyObjection(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload(decision.ObjectionPayload, envelope.payload, "Objection");
  const severity = payload.severity === "" ? "medium" : payload.severity.toLowerCase();
  if (!SEVERITIES.includes(severity)) throw invalid(`unknown severity '${payload.severity}'`);
  if (state.phase !== "Evaluation") throw invalid(`objections are not accepted in phase ${state.phase}`);
  requireProposal(state, payload.proposalId);
  const objection = { proposal_id: payload.proposalId, reason: payload.reason, severity, sender: envelope.sender };
  return { ...state, objections: [...state.objections, objection] };
}

function applyVote(state: DecisionState, envelope: ModeEnvelope): DecisionState {
  const payload = decodeModePayload(decision.VotePayload, envelope.payload, "Vote");
  const vote = payload.vote.toUpperCase();
  if (!VOTES.includes(vote)) throw invalid(`unknown vote '${payload.vote}'`);
  if (state.phase !== "Evaluation" && state.phase !== "Voting") {
    throw invalid(`votes are not accepted in phase ${state.phase}`);
  }
  requireProposal(state, payload.proposalId);
  const existing = state.votes.get(payload.proposalId) ?? new Map();
  if (existing.has(envelope.sender)) throw invalid(`${envelope.sender} already voted on '${payload.proposalId}'`);
  const byProposal = new Map(existing);
  byProposal.set(envelope.sender, {
    proposal_id: payload.proposalId,
    vote,
    reason: payload.reason,
    sender: envelope.sender,
  });
  const votes = new Map(state.votes);
  votes.set(payload.proposalId, byProposal);
  return { ...state, votes, phase: "Voting" };
}

function applyCommitment(session: SessionView, state: DecisionState, envelope: ModeEnvelope): ModeOutcome {
  const commitment = validateCommitment(session, envelope.payload);
  if (state.proposals.size === 0) throw invalid("a commitment needs at least one proposal");
  const verdict = evaluateDecision(session.policy, decisionPolicyInput(state), session.participants, commitment.outcomePositive);
  if (!verdict.allowed) return rejected(MacpError.policyDenied(verdict.reasons));
  return accepted(writeDecisionState({ ...state, phase: "Committed" }), envelope.payload);
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = readDecisionState(stored);
  if (state.phase === "Committed") return rejected(new MacpError("SessionNotOpen", "the decision is already committed"));
  switch (envelope.messageType) {
    case "Proposal":
      return accepted(writeDecisionState(applyProposal(state, envelope)));
    case "Evaluation":
      return accepted(writeDecisionState(applyEvaluation(state, envelope)));
    case "Objection":
      return accepted(writeDecisionState(applyObjection(state, envelope)));
    case "Vote":
      return accepted(writeDecisionState(applyVote(state, envelope)));
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
    if (session.participants.length === 0) return rejected(invalid("decision mode needs at least one participant"));
    return accepted(writeDecisionState(INITIAL_DECISION_STATE));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    try {
      return step(session, state, envelope);
    } catch (error) {
      if (error instanceof MacpError) return rejected(error);
      throw error;
    }
  },
};
