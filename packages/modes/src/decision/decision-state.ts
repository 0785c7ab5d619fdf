import { compareCodePoints } from "@macp/protocol";
import { isQualifyingEvaluation, maxConfidence, type DecisionTally, type JsonValue, type VoterVotes } from "@macp/policy";
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
  type StateObject,
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

/**
 * What the policy evaluator reads, counted as messages arrive (derived, not stored), so a
 * Commitment does not walk every evaluation, objection and vote.
 */
export interface DecisionCounts {
  readonly qualifyingEvaluations: number;
  readonly maxQualifyingConfidence: number;
  readonly criticalObjectors: PersistentList<string>;
  readonly approve: number;
  readonly reject: number;
  /** APPROVE / REJECT pairs per sender with any vote (abstainers included, at zero). */
  readonly voters: PersistentMap<string, VoterVotes>;
}

/** Decision mode state (§5.1); maps are keyed by proposal id (votes then by sender). */
export interface DecisionState {
  readonly proposals: PersistentMap<string, DecisionProposal>;
  readonly evaluations: PersistentList<DecisionEvaluation>;
  readonly objections: PersistentList<DecisionObjection>;
  readonly votes: PersistentMap<string, PersistentMap<string, DecisionVote>>;
  readonly phase: DecisionPhase;
  readonly counts: DecisionCounts;
}

const NO_COUNTS: DecisionCounts = {
  qualifyingEvaluations: 0,
  maxQualifyingConfidence: -Infinity,
  criticalObjectors: PersistentList.empty(),
  approve: 0,
  reject: 0,
  voters: PersistentMap.empty(),
};

/** State right after SessionStart. */
export function initialDecisionState(): DecisionState {
  return {
    proposals: PersistentMap.empty(),
    evaluations: PersistentList.empty(),
    objections: PersistentList.empty(),
    votes: PersistentMap.empty(),
    phase: "Proposal",
    counts: NO_COUNTS,
  };
}

/** The counts with one more evaluation. */
export function countEvaluation(counts: DecisionCounts, evaluation: DecisionEvaluation): DecisionCounts {
  if (!isQualifyingEvaluation(evaluation.recommendation)) return counts;
  return {
    ...counts,
    qualifyingEvaluations: counts.qualifyingEvaluations + 1,
    maxQualifyingConfidence: maxConfidence(counts.maxQualifyingConfidence, evaluation.confidence),
  };
}

/** The counts with one more objection. */
export function countObjection(counts: DecisionCounts, objection: DecisionObjection): DecisionCounts {
  if (objection.severity !== "critical") return counts;
  return { ...counts, criticalObjectors: counts.criticalObjectors.append(objection.sender) };
}

/** The counts with one more (proposal, voter) vote. */
export function countVote(counts: DecisionCounts, vote: DecisionVote): DecisionCounts {
  const approve = vote.vote === "APPROVE" ? 1 : 0;
  const reject = vote.vote === "REJECT" ? 1 : 0;
  const before = counts.voters.get(vote.sender) ?? { approve: 0, reject: 0 };
  return {
    ...counts,
    approve: counts.approve + approve,
    reject: counts.reject + reject,
    voters: counts.voters.set(vote.sender, { approve: before.approve + approve, reject: before.reject + reject }),
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
  const evaluations = readArray(field(object, "evaluations"), "evaluations").map(readEvaluation);
  const objections = readArray(field(object, "objections"), "objections").map(readObjection);
  const votes = readMap(object, "votes", (byProposal) => readMap({ votes: byProposal }, "votes", readVote));
  let counts = evaluations.reduce(countEvaluation, NO_COUNTS);
  counts = objections.reduce(countObjection, counts);
  for (const byProposal of votes.values()) counts = byProposal.values().reduce(countVote, counts);
  return {
    proposals: readMap(object, "proposals", readProposal),
    evaluations: PersistentList.from(evaluations),
    objections: PersistentList.from(objections),
    votes,
    phase: readEnum(object, "phase", DECISION_PHASES),
    counts,
  };
}

/** Decision state as its canonical JSON document (declaration order, maps sorted by key). */
export function writeDecisionState(state: DecisionState): StateObject {
  return {
    proposals: mapJson(state.proposals, (proposal) => ({ ...proposal })),
    evaluations: state.evaluations.toArray().map((evaluation) => ({ ...evaluation })),
    objections: state.objections.toArray().map((objection) => ({ ...objection })),
    votes: mapJson(state.votes, (byProposal) => mapJson(byProposal, (vote) => ({ ...vote }))),
    phase: state.phase,
  };
}

/**
 * What the Decision evaluator reads, from the kept counts; only weighted voting with weights whose
 * sums depend on the order walks the votes (in the reference's proposal-then-voter order).
 */
export function decisionTally(state: DecisionState): DecisionTally {
  const { counts } = state;
  return {
    qualifyingEvaluations: counts.qualifyingEvaluations,
    maxQualifyingConfidence: counts.maxQualifyingConfidence,
    criticalObjections: counts.criticalObjectors.length,
    criticalObjectors: () => counts.criticalObjectors.toArray(),
    approve: counts.approve,
    reject: counts.reject,
    distinctVoters: counts.voters.size,
    votesOf: (voter) => counts.voters.get(voter),
    orderedVotes: () => orderedVotes(state.votes),
  };
}

function* orderedVotes(votes: DecisionState["votes"]): Generator<{ voter: string; vote: string }> {
  for (const proposalId of votes.keys().sort(compareCodePoints)) {
    const byVoter = votes.get(proposalId) ?? PersistentMap.empty<string, DecisionVote>();
    for (const voter of byVoter.keys().sort(compareCodePoints)) yield { voter, vote: byVoter.get(voter)?.vote ?? "" };
  }
}

/** Decision state between its typed form and its stored JSON. */
export const DECISION_STATE = new StateCodec<DecisionState>(
  ["proposals", "evaluations", "objections", "votes", "phase"],
  readDecisionState,
  writeDecisionState,
);
