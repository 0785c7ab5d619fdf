import { isBlank, MacpError, ModeId, type SessionStartPayload, type proposal } from "@macp/protocol";
import { evaluateProposalCount, parseProposalRules, type JsonValue, type ProposalRules } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "../commitment-rules.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant, participantSet } from "../participants.js";
import { decodeModePayload } from "../payload-decoding.js";
import {
  PROPOSAL_STATE,
  initialProposalState,
  moveAcceptor,
  type ProposalPhase,
  type ProposalRecord,
  type ProposalState,
} from "./proposal-state.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

function rulesOf(session: SessionView): ProposalRules {
  return parseProposalRules(session.policy?.rules ?? {});
}

/**
 * Whether the live proposal `proposalId` meets the acceptance criterion. Accepts come only from
 * declared participants and always name a live proposal, so counting a proposal's acceptors
 * says whether all (other) participants accepted it.
 */
function satisfiesCriterion(session: SessionView, state: ProposalState, proposalId: string | undefined, criterion: string): boolean {
  if (proposalId === undefined) return false;
  const record = state.proposals.get(proposalId);
  if (record?.disposition !== "Live") return false;
  const participants = participantSet(session.participants);
  const acceptors = state.acceptors.get(proposalId);
  const count = acceptors?.size ?? 0;
  switch (criterion) {
    case "counterparty": {
      const others = count - (acceptors?.has(record.proposer) === true ? 1 : 0);
      return others === participants.size - (participants.has(record.proposer) ? 1 : 0);
    }
    case "initiator":
      return acceptors?.has(session.initiator) === true;
    default:
      // all_parties is also what any unrecognised criterion means.
      return participants.size > 0 && count === participants.size;
  }
}

/**
 * Whether some live proposal meets the criterion, looking only at the proposals that could: the
 * initiator's accepted one; for all_parties the one any participant accepted; for counterparty,
 * with two or more participants, one of those two accepted (every counterparty of the proposal
 * accepted it, and one of any two participants is a counterparty), and with one participant any
 * live proposal (it has no counterparties).
 */
function hasConverged(session: SessionView, state: ProposalState, criterion: string): boolean {
  const participants = participantSet(session.participants);
  const [first, second] = participants;
  const acceptedBy = (participant: string | undefined): string | undefined =>
    participant === undefined ? undefined : state.accepts.get(participant);
  switch (criterion) {
    case "initiator":
      return satisfiesCriterion(session, state, acceptedBy(session.initiator), criterion);
    case "counterparty":
      if (participants.size === 1) return state.live_proposals > 0;
      return (
        satisfiesCriterion(session, state, acceptedBy(first), criterion) ||
        satisfiesCriterion(session, state, acceptedBy(second), criterion)
      );
    default:
      return satisfiesCriterion(session, state, acceptedBy(first), criterion);
  }
}

/** §6.3: the phase follows from the state, so it can move back as accepts and withdrawals change. */
function refreshPhase(session: SessionView, rules: ProposalRules, state: ProposalState): ProposalState {
  let phase: ProposalPhase = "Negotiating";
  if (state.terminal_rejections.length > 0) {
    phase = "TerminalRejected";
  } else if (hasConverged(session, state, rules.acceptanceCriterion)) {
    phase = "Converged";
  }
  return { ...state, phase };
}

function requireLive(state: ProposalState, proposalId: string): void {
  if (state.proposals.get(proposalId)?.disposition !== "Live") throw invalidPayload(`'${proposalId}' is not a live proposal`);
}

function withProposal(state: ProposalState, record: ProposalRecord): ProposalState {
  const counter = record.supersedes_proposal_id !== null && !state.proposals.has(record.proposal_id);
  return {
    ...state,
    proposals: state.proposals.set(record.proposal_id, record),
    counter_proposals: state.counter_proposals + (counter ? 1 : 0),
    live_proposals: state.live_proposals + (record.disposition === "Live" ? 1 : 0),
  };
}

function applyProposal(state: ProposalState, envelope: ModeEnvelope): ProposalState {
  const payload = decodeModePayload<proposal.ProposalPayload>(ModeId.Proposal, "Proposal", envelope.payload);
  if (isBlank(payload.proposalId)) throw invalidPayload("proposal_id must not be blank");
  if (state.proposals.has(payload.proposalId)) throw invalidPayload(`proposal id '${payload.proposalId}' is already used`);
  return withProposal(state, {
    proposal_id: payload.proposalId,
    title: payload.title,
    summary: payload.summary,
    details: payload.details,
    tags: payload.tags,
    proposer: envelope.sender,
    supersedes_proposal_id: null,
    disposition: "Live",
  });
}

function applyCounterProposal(rules: ProposalRules, state: ProposalState, envelope: ModeEnvelope): ProposalState {
  const payload = decodeModePayload<proposal.CounterProposalPayload>(ModeId.Proposal, "CounterProposal", envelope.payload);
  if (isBlank(payload.proposalId)) throw invalidPayload("proposal_id must not be blank");
  if (isBlank(payload.supersedesProposalId)) throw invalidPayload("supersedes_proposal_id must not be blank");
  if (state.proposals.has(payload.proposalId)) throw invalidPayload(`proposal id '${payload.proposalId}' is already used`);
  // A withdrawn proposal may still be countered: only existence matters.
  if (!state.proposals.has(payload.supersedesProposalId)) {
    throw invalidPayload(`superseded proposal '${payload.supersedesProposalId}' does not exist`);
  }
  const maxRounds = rules.counterProposalMaxRounds;
  const counterCount = state.counter_proposals;
  if (maxRounds > 0 && counterCount >= maxRounds) {
    throw invalidPayload(`counter-proposal limit reached: ${counterCount} of ${maxRounds} allowed`);
  }
  return withProposal(state, {
    proposal_id: payload.proposalId,
    title: payload.title,
    summary: payload.summary,
    details: payload.details,
    tags: [],
    proposer: envelope.sender,
    supersedes_proposal_id: payload.supersedesProposalId,
    disposition: "Live",
  });
}

function applyAccept(state: ProposalState, envelope: ModeEnvelope): ProposalState {
  const payload = decodeModePayload<proposal.AcceptPayload>(ModeId.Proposal, "Accept", envelope.payload);
  requireLive(state, payload.proposalId);
  const previous = state.accepts.get(envelope.sender);
  return {
    ...state,
    accepts: state.accepts.set(envelope.sender, payload.proposalId),
    acceptors: moveAcceptor(state.acceptors, envelope.sender, previous, payload.proposalId),
  };
}

function applyReject(rules: ProposalRules, state: ProposalState, envelope: ModeEnvelope): ProposalState {
  const payload = decodeModePayload<proposal.RejectPayload>(ModeId.Proposal, "Reject", envelope.payload);
  requireLive(state, payload.proposalId);
  const terminal = payload.terminal || rules.terminalOnAnyReject;
  const rejection = { proposal_id: payload.proposalId, sender: envelope.sender, reason: payload.reason };
  return {
    ...state,
    terminal_rejections: terminal ? [...state.terminal_rejections, rejection] : state.terminal_rejections,
    rejections: state.rejections.append({ ...rejection, terminal }),
  };
}

function applyWithdraw(state: ProposalState, envelope: ModeEnvelope): ProposalState {
  const payload = decodeModePayload<proposal.WithdrawPayload>(ModeId.Proposal, "Withdraw", envelope.payload);
  if (isBlank(payload.proposalId)) throw invalidPayload("proposal_id must not be blank");
  const record = state.proposals.get(payload.proposalId);
  if (record === undefined) throw invalidPayload(`unknown proposal '${payload.proposalId}'`);
  if (record.proposer !== envelope.sender) throw forbidden("only the proposer may withdraw a proposal");
  if (record.disposition === "Withdrawn") throw invalidPayload(`proposal '${payload.proposalId}' is already withdrawn`);
  const withdrawn = withProposal(state, { ...record, disposition: "Withdrawn" });
  const acceptors = state.acceptors.get(payload.proposalId)?.keys() ?? [];
  return {
    ...withdrawn,
    live_proposals: state.live_proposals - 1,
    accepts: acceptors.reduce((accepts, sender) => accepts.delete(sender), state.accepts),
    acceptors: state.acceptors.delete(payload.proposalId),
    // The audit list keeps the rejection; only its terminal effect ends with the proposal.
    terminal_rejections: state.terminal_rejections.filter((rejection) => rejection.proposal_id !== payload.proposalId),
  };
}

function applyCommitment(session: SessionView, rules: ProposalRules, state: ProposalState, envelope: ModeEnvelope): ModeOutcome {
  validateCommitment(session, envelope.payload);
  const ready = refreshPhase(session, rules, state);
  if (ready.phase !== "Converged" && ready.phase !== "TerminalRejected") {
    throw invalidPayload("a commitment needs a converged or terminally rejected negotiation");
  }
  const verdict = evaluateProposalCount(session.policy, ready.counter_proposals);
  if (!verdict.allowed) return rejected(MacpError.policyDenied(verdict.reasons));
  return accepted(PROPOSAL_STATE.json({ ...ready, phase: "Committed" }), envelope.payload);
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = PROPOSAL_STATE.read(stored);
  if (state.phase === "Committed") return rejected(new MacpError("SessionNotOpen", "the negotiation is already committed"));
  const rules = rulesOf(session);
  const next = (updated: ProposalState): ModeOutcome => accepted(PROPOSAL_STATE.json(refreshPhase(session, rules, updated)));
  switch (envelope.messageType) {
    case "Proposal":
      return next(applyProposal(state, envelope));
    case "CounterProposal":
      return next(applyCounterProposal(rules, state, envelope));
    case "Accept":
      return next(applyAccept(state, envelope));
    case "Reject":
      return next(applyReject(rules, state, envelope));
    case "Withdraw":
      return next(applyWithdraw(state, envelope));
    case "Commitment":
      return applyCommitment(session, rules, state, envelope);
    default:
      throw invalidPayload(`message type '${envelope.messageType}' is not part of proposal mode`);
  }
}

/**
 * `macp.mode.proposal.v1` (modes-and-policy.md §6): proposals, counter-proposals, accepts,
 * rejects and withdrawals among declared participants until the acceptance criterion converges
 * or a terminal rejection stands, then a Commitment.
 */
export const proposalMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length === 0) return rejected(invalidPayload("proposal mode needs at least one participant"));
    return accepted(PROPOSAL_STATE.json(initialProposalState()));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied =
      envelope.messageType === "Commitment"
        ? authorizeCommitment(session, envelope.sender)
        : isParticipant(session, envelope.sender)
          ? undefined
          : forbidden(`${envelope.sender} is not a declared participant`);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};
