import { sortedKeys } from "../json/code-point-order.js";
import type { DecisionRules } from "../rules/decision-rules.js";
import type { DecisionPolicyInput } from "./mode-state-inputs.js";
import { formatRustFixed } from "../json/rust-number-format.js";

/** Vote counts over all proposals of a Decision session (§12.8). */
export interface VoteTally {
  /** (proposal, voter) pairs voting APPROVE. */
  readonly approve: number;
  /** (proposal, voter) pairs voting REJECT. */
  readonly reject: number;
  /** Distinct senders with any vote on any proposal, abstainers included. */
  readonly distinctVoters: number;
}

/** A vote result: `Passed`/`Failed` carry the reason text, `NoVotes` none. */
export type VotingResult =
  | { readonly kind: "Passed"; readonly reason: string }
  | { readonly kind: "Failed"; readonly reason: string }
  | { readonly kind: "NoVotes" };

type Votes = DecisionPolicyInput["votes"];

/**
 * Every (proposal, voter, vote) in the reference's BTreeMap order (proposal id, then voter id,
 * by code point), so floating-point weight sums add up in the same order.
 */
function* votePairs(votes: Votes): Generator<{ voter: string; vote: string }> {
  for (const proposalId of sortedKeys(votes)) {
    const byVoter = votes[proposalId] ?? {};
    for (const voter of sortedKeys(byVoter)) {
      yield { voter, vote: byVoter[voter]?.vote ?? "" };
    }
  }
}

/** Counts APPROVE and REJECT pairs and distinct voters. */
export function tallyVotes(votes: Votes): VoteTally {
  let approve = 0;
  let reject = 0;
  const voters = new Set<string>();
  for (const { voter, vote } of votePairs(votes)) {
    voters.add(voter);
    if (vote === "APPROVE") approve += 1;
    else if (vote === "REJECT") reject += 1;
  }
  return { approve, reject, distinctVoters: voters.size };
}

const percent = (ratio: number): string => formatRustFixed(ratio * 100, 1);

function ratioResult(name: string, ratio: number, threshold: number, qualifier = ""): VotingResult {
  if (ratio >= threshold) {
    return {
      kind: "Passed",
      reason: `${name} vote passed: ${percent(ratio)}%${qualifier} approve (threshold: ${percent(threshold)}%)`,
    };
  }
  return {
    kind: "Failed",
    reason: `${name} vote failed: ${percent(ratio)}%${qualifier} approve, need >= ${percent(threshold)}%`,
  };
}

function hasApprove(votes: Votes, participant: string): boolean {
  return Object.values(votes).some(
    (byVoter) => Object.hasOwn(byVoter, participant) && byVoter[participant]?.vote === "APPROVE",
  );
}

function weightedResult(voting: DecisionRules["voting"], votes: Votes): VotingResult {
  let approveWeight = 0;
  let totalWeight = 0;
  for (const { voter, vote } of votePairs(votes)) {
    if (vote !== "APPROVE" && vote !== "REJECT") continue;
    const weight = voting.weights.get(voter) ?? 1;
    totalWeight += weight;
    if (vote === "APPROVE") approveWeight += weight;
  }
  if (totalWeight === 0) return { kind: "NoVotes" };
  return ratioResult("weighted", approveWeight / totalWeight, voting.threshold, " weighted");
}

/**
 * `votingResult` of §12.9. NoVotes (no APPROVE/REJECT pair) is decided before the algorithm is
 * looked at, so even `unanimous` or an unknown algorithm yields NoVotes on an empty tally.
 */
export function votingResult(
  voting: DecisionRules["voting"],
  votes: Votes,
  tally: VoteTally,
  participants: readonly string[],
): VotingResult {
  const { approve, reject } = tally;
  const nonAbstain = approve + reject;
  if (nonAbstain === 0) return { kind: "NoVotes" };
  switch (voting.algorithm) {
    case "majority":
      return ratioResult("majority", approve / nonAbstain, voting.threshold);
    case "supermajority":
      return ratioResult("supermajority", approve / nonAbstain, voting.threshold > 0.5 ? voting.threshold : 2 / 3);
    case "unanimous":
      if (reject === 0 && participants.every((participant) => hasApprove(votes, participant))) {
        return { kind: "Passed", reason: "unanimous vote passed: all participants approved" };
      }
      return {
        kind: "Failed",
        reason: `unanimous vote failed: ${approve} approve, ${reject} reject out of ${participants.length} participants`,
      };
    case "weighted":
      return weightedResult(voting, votes);
    case "plurality": {
      const counts = `${approve} approve vs ${reject} reject`;
      if (approve > reject) return { kind: "Passed", reason: `plurality vote passed: ${counts}` };
      if (approve === reject) return { kind: "Failed", reason: `plurality vote tied: ${counts}` };
      return { kind: "Failed", reason: `plurality vote failed: ${counts}` };
    }
    default:
      return {
        kind: "Failed",
        reason: `unknown voting algorithm '${voting.algorithm}'; supported: majority, supermajority, unanimous, weighted, plurality, none`,
      };
  }
}
