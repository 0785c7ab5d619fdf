import { sortedKeys } from "../json/code-point-order.js";
import type { DecisionPolicyInput } from "./mode-state-inputs.js";

/** A voter's APPROVE and REJECT (proposal, voter) pairs. */
export interface VoterVotes {
  readonly approve: number;
  readonly reject: number;
}

/**
 * What the Decision evaluator needs from a session's state, as counts a mode can keep up to date
 * message by message, so a Commitment costs the same at 10 votes as at 100k. The two lists are
 * read only when a verdict names them or needs their order.
 */
export interface DecisionTally {
  /** Evaluations whose recommendation is not REVIEW. */
  readonly qualifyingEvaluations: number;
  /** The highest confidence among those; `-Infinity` when there are none. */
  readonly maxQualifyingConfidence: number;
  /** Objections of severity `critical`. */
  readonly criticalObjections: number;
  /** Senders of the critical objections, in the order they were made. */
  criticalObjectors(): readonly string[];
  /** (proposal, voter) pairs voting APPROVE. */
  readonly approve: number;
  /** (proposal, voter) pairs voting REJECT. */
  readonly reject: number;
  /** Distinct senders with any vote on any proposal, abstainers included. */
  readonly distinctVoters: number;
  /** One voter's APPROVE / REJECT pairs; undefined when the voter has no vote at all. */
  votesOf(voter: string): VoterVotes | undefined;
  /**
   * Every (voter, vote) pair in the reference's BTreeMap order (proposal id, then voter id, by
   * code point). Only weighted voting with weights whose sums depend on the order reads it.
   */
  orderedVotes(): Iterable<{ readonly voter: string; readonly vote: string }>;
}

/** Whether an evaluation counts for the evaluation gate: any recommendation but REVIEW, compared upper-cased. */
export function isQualifyingEvaluation(recommendation: string): boolean {
  return recommendation.toUpperCase() !== "REVIEW";
}

/** The larger of a running maximum and a confidence; NaN never wins (it meets no threshold). */
export function maxConfidence(max: number, confidence: number): number {
  return confidence > max ? confidence : max;
}

/** Builds a {@link DecisionTally} from a full state document, in one pass over it. */
export function decisionTallyOf(state: DecisionPolicyInput): DecisionTally {
  let qualifyingEvaluations = 0;
  let maxQualifyingConfidence = -Infinity;
  for (const evaluation of state.evaluations) {
    if (!isQualifyingEvaluation(evaluation.recommendation)) continue;
    qualifyingEvaluations += 1;
    maxQualifyingConfidence = maxConfidence(maxQualifyingConfidence, evaluation.confidence);
  }
  const criticalObjectors = state.objections.filter((o) => o.severity === "critical").map((o) => o.sender);
  const ordered: { voter: string; vote: string }[] = [];
  for (const proposalId of sortedKeys(state.votes)) {
    const byVoter = state.votes[proposalId] ?? {};
    for (const voter of sortedKeys(byVoter)) ordered.push({ voter, vote: byVoter[voter]?.vote ?? "" });
  }
  const voters = new Map<string, { approve: number; reject: number }>();
  let approve = 0;
  let reject = 0;
  for (const { voter, vote } of ordered) {
    const counts = voters.get(voter) ?? { approve: 0, reject: 0 };
    if (vote === "APPROVE") {
      approve += 1;
      counts.approve += 1;
    } else if (vote === "REJECT") {
      reject += 1;
      counts.reject += 1;
    }
    voters.set(voter, counts);
  }
  return {
    qualifyingEvaluations,
    maxQualifyingConfidence,
    criticalObjections: criticalObjectors.length,
    criticalObjectors: () => criticalObjectors,
    approve,
    reject,
    distinctVoters: voters.size,
    votesOf: (voter) => voters.get(voter),
    orderedVotes: () => ordered,
  };
}
