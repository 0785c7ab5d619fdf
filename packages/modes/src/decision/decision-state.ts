import type { DecisionPolicyInput, JsonValue } from "@macp/policy";
import { PersistentList } from "../state/persistent-list.js";
import { PersistentMap } from "../state/persistent-map.js";
import { StateCodec } from "../state/state-codec.js";
import {
  field,
  mapJson,
  readArray,
  readEnum,
  readMap,
  readNumber,
  readObject,
  readString,
  type JsonObject,
} from "../state/state-json.js";

/** Decision phases (§5.3). */
export const DECISION_PHASES = ["Proposal", "Evaluation", "Voting", "Committed"] as const;
/** A decision phase. */
export type DecisionPhase = (typeof DECISION_PHASES)[number];

/** A stored proposal; `supporting_data` is deliberately not kept (§5.1). */
export interface DecisionProposal {
  readonly proposal_id: string;
  readonly option: string;
  readonly rationale: string;
  readonly sender: string;
}

/** A stored evaluation, recommendation upper-case. */
export interface DecisionEvaluation {
  readonly proposal_id: string;
  readonly recommendation: string;
  readonly confidence: number;
  readonly reason: string;
  readonly sender: string;
}

/** A stored objection, severity lower-case. */
export interface DecisionObjection {
  readonly proposal_id: string;
  readonly reason: string;
  readonly severity: string;
  readonly sender: string;
}

/** A stored vote, vote upper-case. */
export interface DecisionVote {
  readonly proposal_id: string;
  readonly vote: string;
  readonly reason: string;
  readonly sender: string;
}

/** Decision mode state (§5.1); maps are keyed by proposal id (votes then by sender). */
export interface DecisionState {
  readonly proposals: PersistentMap<string, DecisionProposal>;
  readonly evaluations: PersistentList<DecisionEvaluation>;
  readonly objections: PersistentList<DecisionObjection>;
  readonly votes: PersistentMap<string, PersistentMap<string, DecisionVote>>;
  readonly phase: DecisionPhase;
}

/** State right after SessionStart. */
export function initialDecisionState(): DecisionState {
  return {
    proposals: PersistentMap.empty(),
    evaluations: PersistentList.empty(),
    objections: PersistentList.empty(),
    votes: PersistentMap.empty(),
    phase: "Proposal",
  };
}

function readProposal(value: JsonValue): DecisionProposal {
  const object = readObject(value, "proposal");
  return {
    proposal_id: readString(object, "proposal_id"),
    option: readString(object, "option"),
    rationale: readString(object, "rationale"),
    sender: readString(object, "sender"),
  };
}

function readEvaluation(value: JsonValue): DecisionEvaluation {
  const object = readObject(value, "evaluation");
  return {
    proposal_id: readString(object, "proposal_id"),
    recommendation: readString(object, "recommendation"),
    confidence: readNumber(object, "confidence"),
    reason: readString(object, "reason"),
    sender: readString(object, "sender"),
  };
}

function readObjection(value: JsonValue): DecisionObjection {
  const object = readObject(value, "objection");
  return {
    proposal_id: readString(object, "proposal_id"),
    reason: readString(object, "reason"),
    severity: readString(object, "severity"),
    sender: readString(object, "sender"),
  };
}

function readVote(value: JsonValue): DecisionVote {
  const object = readObject(value, "vote");
  return {
    proposal_id: readString(object, "proposal_id"),
    vote: readString(object, "vote"),
    reason: readString(object, "reason"),
    sender: readString(object, "sender"),
  };
}

/**
 * Parses stored decision state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readDecisionState(json: JsonValue): DecisionState {
  const object = readObject(json, "decision state");
  return {
    proposals: readMap(object, "proposals", readProposal),
    evaluations: PersistentList.from(readArray(field(object, "evaluations"), "evaluations").map(readEvaluation)),
    objections: PersistentList.from(readArray(field(object, "objections"), "objections").map(readObjection)),
    votes: readMap(object, "votes", (byProposal) => readMap({ votes: byProposal }, "votes", readVote)),
    phase: readEnum(object, "phase", DECISION_PHASES),
  };
}

/** Decision state as its canonical JSON document (declaration order, maps sorted by key). */
export function writeDecisionState(state: DecisionState): JsonObject {
  return {
    proposals: mapJson(state.proposals, (proposal) => ({ ...proposal })),
    evaluations: state.evaluations.toArray().map((evaluation) => ({ ...evaluation })),
    objections: state.objections.toArray().map((objection) => ({ ...objection })),
    votes: mapJson(state.votes, (byProposal) => mapJson(byProposal, (vote) => ({ ...vote }))),
    phase: state.phase,
  };
}

/** What the Decision evaluator reads: the state's own records, votes over all proposals. */
export function decisionPolicyInput(state: DecisionState): DecisionPolicyInput {
  return {
    evaluations: state.evaluations.toArray(),
    objections: state.objections.toArray(),
    votes: mapJson(state.votes, (byProposal) => mapJson(byProposal, (vote) => vote)),
  };
}

/** Decision state between its typed form and its stored JSON. */
export const DECISION_STATE = new StateCodec<DecisionState>(
  ["proposals", "evaluations", "objections", "votes", "phase"],
  readDecisionState,
  writeDecisionState,
);
