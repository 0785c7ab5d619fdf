import { MacpError, ModeId, type SessionStartPayload, type handoff } from "@macp/protocol";
import { evaluateHandoff, parseHandoffRules, type JsonValue } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "../commitment-rules.js";
import { HANDOFF_STATE, initialHandoffState, withOffer, type HandoffOffer, type HandoffState } from "./handoff-state.js";
import { PersistentList } from "../state/persistent-list.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant } from "../participants.js";
import { decodeModePayload } from "../payload-decoding.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

const IMPLICIT_ACCEPT_REASON = "implicit accept (timeout)";

/** §8.2: HandoffOffer is initiator-only, Commitment follows the policy's authority, the rest need a participant. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  switch (envelope.messageType) {
    case "HandoffOffer":
      return envelope.sender === session.initiator ? undefined : forbidden("only the initiator may offer a handoff");
    case "Commitment":
      return authorizeCommitment(session, envelope.sender);
    default:
      return isParticipant(session, envelope.sender)
        ? undefined
        : forbidden(`${envelope.sender} is not a declared participant`);
  }
}

function findOffer(state: HandoffState, handoffId: string): HandoffOffer {
  const offer = state.offers.get(handoffId);
  if (offer === undefined) throw invalidPayload(`unknown handoff '${handoffId}'`);
  return offer;
}

function applyOffer(session: SessionView, state: HandoffState, envelope: ModeEnvelope): HandoffState {
  const payload = decodeModePayload<handoff.HandoffOfferPayload>(ModeId.Handoff, "HandoffOffer", envelope.payload);
  if (payload.handoffId === "") throw invalidPayload("handoff_id must not be empty");
  if (payload.targetParticipant === "") throw invalidPayload("target_participant must not be empty");
  if (state.offers.has(payload.handoffId)) throw invalidPayload(`handoff '${payload.handoffId}' already exists`);
  if (!isParticipant(session, payload.targetParticipant)) {
    throw invalidPayload(`target '${payload.targetParticipant}' is not a declared participant`);
  }
  if (payload.targetParticipant === envelope.sender) throw invalidPayload("a handoff cannot target its sender");
  if (state.dispositions.Offered > 0) throw invalidPayload("another handoff offer is outstanding");
  if (state.dispositions.Accepted > 0) throw invalidPayload("responsibility was already transferred");
  return withOffer(state, {
    handoff_id: payload.handoffId,
    target_participant: payload.targetParticipant,
    scope: payload.scope,
    reason: payload.reason,
    offered_by: envelope.sender,
    disposition: "Offered",
    accepted_by: null,
    declined_by: null,
    outcome_reason: null,
    offered_at_ms: envelope.timestampUnixMs,
  });
}

/** Late context (after an accept or decline) is allowed: only the offer's existence and author are checked. */
function applyContext(state: HandoffState, envelope: ModeEnvelope): HandoffState {
  const payload = decodeModePayload<handoff.HandoffContextPayload>(ModeId.Handoff, "HandoffContext", envelope.payload);
  const offer = findOffer(state, payload.handoffId);
  if (offer.offered_by !== envelope.sender) throw forbidden("only the offerer may add handoff context");
  const entry = { content_type: payload.contentType, context: payload.context, sender: envelope.sender };
  const list = state.contexts.get(payload.handoffId) ?? PersistentList.empty();
  return { ...state, contexts: state.contexts.set(payload.handoffId, list.append(entry)) };
}

interface Response {
  readonly handoffId: string;
  /** `accepted_by` / `declined_by` from the payload; empty means "the sender". */
  readonly claimedBy: string;
  readonly reason: string;
}

function applyResponse(state: HandoffState, envelope: ModeEnvelope, response: Response, accept: boolean): HandoffState {
  const offer = findOffer(state, response.handoffId);
  if (offer.target_participant !== envelope.sender) throw forbidden("only the handoff target may respond");
  if (response.claimedBy !== "" && response.claimedBy !== envelope.sender) {
    throw invalidPayload(`${accept ? "accepted_by" : "declined_by"} must name the sender`);
  }
  if (offer.disposition !== "Offered") throw invalidPayload(`handoff '${offer.handoff_id}' is already ${offer.disposition}`);
  return withOffer(state, {
    ...offer,
    disposition: accept ? "Accepted" : "Declined",
    accepted_by: accept ? envelope.sender : offer.accepted_by,
    declined_by: accept ? offer.declined_by : envelope.sender,
    outcome_reason: response.reason,
  });
}

function applyAccept(state: HandoffState, envelope: ModeEnvelope): HandoffState {
  const payload = decodeModePayload<handoff.HandoffAcceptPayload>(ModeId.Handoff, "HandoffAccept", envelope.payload);
  return applyResponse(state, envelope, { handoffId: payload.handoffId, claimedBy: payload.acceptedBy, reason: payload.reason }, true);
}

function applyDecline(state: HandoffState, envelope: ModeEnvelope): HandoffState {
  const payload = decodeModePayload<handoff.HandoffDeclinePayload>(ModeId.Handoff, "HandoffDecline", envelope.payload);
  return applyResponse(state, envelope, { handoffId: payload.handoffId, claimedBy: payload.declinedBy, reason: payload.reason }, false);
}

/**
 * Implicit accept is evaluated lazily with envelope timestamps (never the wall clock) so replay
 * reaches the same result; offers stamped 0 never time out. The elapsed time is the reference's
 * i64 subtraction, which wraps (a release build) when client timestamps lie far apart.
 */
function applyImplicitAccept(session: SessionView, state: HandoffState, commitAtMs: bigint): HandoffState {
  if (session.policy === null) return state;
  const timeoutMs = parseHandoffRules(session.policy.rules).implicitAcceptTimeoutMs;
  if (timeoutMs <= 0) return state;
  let next = state;
  for (const offer of state.offers.values()) {
    const elapsedMs = BigInt.asIntN(64, commitAtMs - offer.offered_at_ms);
    if (offer.disposition === "Offered" && offer.offered_at_ms > 0n && elapsedMs >= timeoutMs) {
      next = withOffer(next, {
        ...offer,
        disposition: "Accepted",
        accepted_by: offer.target_participant,
        outcome_reason: IMPLICIT_ACCEPT_REASON,
      });
    }
  }
  return next;
}

function applyCommitment(session: SessionView, stored: HandoffState, envelope: ModeEnvelope): ModeOutcome {
  validateCommitment(session, envelope.payload);
  const state = applyImplicitAccept(session, stored, envelope.timestampUnixMs);
  if (state.dispositions.Accepted + state.dispositions.Declined === 0) {
    throw invalidPayload("no handoff offer has been accepted or declined");
  }
  const verdict = evaluateHandoff(session.policy, { offers: Object.fromEntries(state.offers.entries()) });
  if (!verdict.allowed) throw MacpError.policyDenied(verdict.reasons);
  return accepted(HANDOFF_STATE.json(state), envelope.payload.slice());
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = HANDOFF_STATE.read(stored);
  switch (envelope.messageType) {
    case "HandoffOffer":
      return accepted(HANDOFF_STATE.json(applyOffer(session, state, envelope)));
    case "HandoffContext":
      return accepted(HANDOFF_STATE.json(applyContext(state, envelope)));
    case "HandoffAccept":
      return accepted(HANDOFF_STATE.json(applyAccept(state, envelope)));
    case "HandoffDecline":
      return accepted(HANDOFF_STATE.json(applyDecline(state, envelope)));
    case "Commitment":
      return applyCommitment(session, state, envelope);
    default:
      throw invalidPayload(`message type '${envelope.messageType}' is not part of handoff mode`);
  }
}

/**
 * `macp.mode.handoff.v1` (modes-and-policy.md §8): the initiator offers responsibility to one
 * participant at a time, may add context, the target accepts or declines, and a Commitment
 * (after at least one answer, or an implicit accept by policy timeout) resolves the session.
 */
export const handoffMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length < 2) return rejected(invalidPayload("handoff mode needs at least two participants"));
    if (!isParticipant(session, session.initiator)) {
      return rejected(invalidPayload("the handoff initiator must be a declared participant"));
    }
    return accepted(HANDOFF_STATE.json(initialHandoffState()));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};
