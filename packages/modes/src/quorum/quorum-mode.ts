import { MacpError, ModeId, type SessionStartPayload, type quorum } from "@macp/protocol";
import { evaluateQuorumCounts, parseQuorumRules, type JsonValue } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "../commitment-rules.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant } from "../participants.js";
import { decodeModePayload } from "../payload-decoding.js";
import { QUORUM_STATE, countBallot, initialQuorumState, type ApprovalRequest, type BallotChoice, type QuorumState } from "./quorum-state.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

/** §9.2: ApprovalRequest is initiator-only, Commitment follows the policy's authority, ballots need a participant. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  switch (envelope.messageType) {
    case "ApprovalRequest":
      return envelope.sender === session.initiator ? undefined : forbidden("only the initiator may request approval");
    case "Commitment":
      return authorizeCommitment(session, envelope.sender);
    default:
      return isParticipant(session, envelope.sender)
        ? undefined
        : forbidden(`${envelope.sender} is not a declared participant`);
  }
}

/** `required_approvals` is checked against the payload even when a policy threshold will override it. */
function applyRequest(session: SessionView, state: QuorumState, envelope: ModeEnvelope): QuorumState {
  const payload = decodeModePayload<quorum.ApprovalRequestPayload>(ModeId.Quorum, "ApprovalRequest", envelope.payload);
  if (state.request !== null) throw invalidPayload("the session already has an approval request");
  if (payload.requestId === "") throw invalidPayload("request_id must not be empty");
  if (payload.requiredApprovals === 0) throw invalidPayload("required_approvals must be at least 1");
  if (payload.requiredApprovals > session.participants.length) {
    throw invalidPayload("required_approvals exceeds the number of participants");
  }
  return {
    ...state,
    request: {
      request_id: payload.requestId,
      action: payload.action,
      summary: payload.summary,
      details: payload.details,
      required_approvals: payload.requiredApprovals,
      requested_by: envelope.sender,
    },
  };
}

function applyBallot(state: QuorumState, envelope: ModeEnvelope, choice: BallotChoice): QuorumState {
  // Approve, Reject and Abstain payloads share one shape: request_id and reason.
  const payload = decodeModePayload<quorum.ApprovePayload>(ModeId.Quorum, choice, envelope.payload);
  if (state.request === null) throw invalidPayload("no approval request has been made");
  if (payload.requestId !== state.request.request_id) throw invalidPayload(`unknown request '${payload.requestId}'`);
  if (state.ballots.has(envelope.sender)) throw invalidPayload(`${envelope.sender} has already cast a ballot`);
  const ballots = state.ballots.set(envelope.sender, { request_id: payload.requestId, choice, sender: envelope.sender, reason: payload.reason });
  return { ...state, ballots, counts: countBallot(state.counts, choice) };
}

/**
 * §9.4: a policy threshold with `value > 0` replaces `required_approvals`; percentages are on a
 * 0–100 scale and round up, every other type is an absolute count truncated to an integer.
 */
function requiredApprovals(session: SessionView, request: ApprovalRequest): number {
  if (session.policy === null) return request.required_approvals;
  const { type, value } = parseQuorumRules(session.policy.rules).threshold;
  if (!(value > 0)) return request.required_approvals;
  return type === "percentage" ? Math.ceil((value / 100) * session.participants.length) : Math.trunc(value);
}

/** Ready once the threshold is met or can no longer be met by the participants still to vote. */
function isReady(session: SessionView, state: QuorumState): boolean {
  if (state.request === null) return false;
  const required = requiredApprovals(session, state.request);
  const approvals = state.counts.approve;
  const remaining = Math.max(0, session.participants.length - state.ballots.size);
  return approvals >= required || approvals + remaining < required;
}

function applyCommitment(session: SessionView, state: QuorumState, envelope: ModeEnvelope): ModeOutcome {
  validateCommitment(session, envelope.payload);
  if (!isReady(session, state)) throw invalidPayload("the approval threshold is neither met nor unreachable yet");
  const verdict = evaluateQuorumCounts(session.policy, state.counts, session.participants);
  if (!verdict.allowed) throw MacpError.policyDenied(verdict.reasons);
  return accepted(QUORUM_STATE.json(state), envelope.payload.slice());
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = QUORUM_STATE.read(stored);
  const type = envelope.messageType;
  switch (type) {
    case "Approve":
    case "Reject":
    case "Abstain":
      return accepted(QUORUM_STATE.json(applyBallot(state, envelope, type)));
    case "ApprovalRequest":
      return accepted(QUORUM_STATE.json(applyRequest(session, state, envelope)));
    case "Commitment":
      return applyCommitment(session, state, envelope);
    default:
      throw invalidPayload(`message type '${type}' is not part of quorum mode`);
  }
}

/**
 * `macp.mode.quorum.v1` (modes-and-policy.md §9): the initiator asks once for approval, each
 * declared participant casts one ballot, and a Commitment is accepted once the threshold is met
 * or has become unreachable, subject to the bound policy's participation check.
 */
export const quorumMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length === 0) return rejected(invalidPayload("quorum mode needs at least one participant"));
    return accepted(QUORUM_STATE.json(initialQuorumState()));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};
