import { compareCodePoints, decodeContribute, type MacpError, type SessionStartPayload } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { validateCommitment } from "../commitment-rules.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { MULTI_ROUND_STATE, initialMultiRoundState, withContribution, type MultiRoundState } from "./multi-round-state.js";
import { isParticipant, participantSet } from "../participants.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

const utf8 = new TextEncoder();

/** §10.2: Commitment is initiator-only whatever the policy says; everything else needs a participant. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  if (envelope.messageType === "Commitment") {
    return envelope.sender === session.initiator ? undefined : forbidden("only the initiator may commit a multi-round session");
  }
  if (session.participants.length === 0 || isParticipant(session, envelope.sender)) return undefined;
  return forbidden(`${envelope.sender} is not a declared participant`);
}

/**
 * Converged when at least one value was contributed, every participant other than the initiator
 * (who coordinates and need not contribute, project decision 1) has contributed, and all latest
 * values, the initiator's included, are equal.
 */
function hasConverged(state: MultiRoundState, initiator: string): boolean {
  if (state.contributions.size === 0 || state.valueCounts.size !== 1) return false;
  const participants = participantSet(state.participants);
  const initiatorIsParticipant = participants.has(initiator);
  const others = participants.size - (initiatorIsParticipant ? 1 : 0);
  const othersContributed =
    state.participantsContributed - (initiatorIsParticipant && state.contributions.has(initiator) ? 1 : 0);
  return othersContributed === others;
}

function applyContribute(session: SessionView, state: MultiRoundState, envelope: ModeEnvelope): MultiRoundState {
  if (state.converged) throw invalidPayload("the session has already converged");
  const { value } = decodeContribute(envelope.payload);
  let next = state;
  if (state.contributions.get(envelope.sender) !== value) {
    next = { ...withContribution(state, envelope.sender, value), round: state.round + 1 };
  }
  return { ...next, converged: hasConverged(next, session.initiator) };
}

/**
 * `{"converged_value":…,"round":…,"final":{…}}`, written by hand so that `final` keeps byte order
 * even for numeric-looking sender ids, which a JS object would move to the front.
 */
function resolution(state: MultiRoundState): Uint8Array {
  const entries = state.contributions.entries().sort(([left], [right]) => compareCodePoints(left, right));
  const convergedValue = entries[0]?.[1] ?? "";
  const final = entries.map(([sender, value]) => `${JSON.stringify(sender)}:${JSON.stringify(value)}`).join(",");
  return utf8.encode(`{"converged_value":${JSON.stringify(convergedValue)},"round":${state.round},"final":{${final}}}`);
}

/** Convergence is checked before the payload, as in the reference. */
function applyCommitment(session: SessionView, state: MultiRoundState, envelope: ModeEnvelope): ModeOutcome {
  if (!state.converged) throw invalidPayload("the session has not converged");
  validateCommitment(session, envelope.payload);
  return accepted(MULTI_ROUND_STATE.json(state), resolution(state));
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = MULTI_ROUND_STATE.read(stored);
  switch (envelope.messageType) {
    case "Contribute":
      return accepted(MULTI_ROUND_STATE.json(applyContribute(session, state, envelope)));
    case "Commitment":
      return applyCommitment(session, state, envelope);
    default:
      throw invalidPayload(`message type '${envelope.messageType}' is not part of multi-round mode`);
  }
}

/**
 * `ext.multi_round.v1` (modes-and-policy.md §10): participants contribute values (JSON or
 * protobuf) until all agree; the initiator then commits and the resolution records the converged
 * value. Policy is never consulted.
 */
export const multiRoundMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length === 0) return rejected(invalidPayload("multi-round mode needs at least one participant"));
    return accepted(MULTI_ROUND_STATE.json(initialMultiRoundState(session.participants)));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};
