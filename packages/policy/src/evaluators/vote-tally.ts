import type { DecisionRules } from "../rules/decision-rules.js";
import type { DecisionTally } from "./decision-tally.js";
import { formatRustFixed } from "../json/rust-number-format.js";

/** A vote result: `Passed`/`Failed` carry the reason text, `NoVotes` none. */
export type VotingResult =
  | { readonly kind: "Passed"; readonly reason: string }
  | { readonly kind: "Failed"; readonly reason: string }
  | { readonly kind: "NoVotes" };

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

/** Smallest k ≤ 64 with `weight × 2^k` an integer, or undefined (not finite, or finer than 2^-64). */
function fractionBits(weight: number): number | undefined {
  for (let k = 0; k <= 64; k++) if (Number.isInteger(weight * 2 ** k)) return k;
  return undefined;
}

/**
 * The weighted sums from per-voter counts, when every partial sum in any order is an exact double
 * (all weights multiples of one power of two, total magnitude below 2^52 of it): then the result
 * equals the reference's ordered sum bit for bit. Undefined when that cannot be promised.
 */
function exactWeightedSums(voting: DecisionRules["voting"], tally: DecisionTally): [number, number] | undefined {
  let bits = 0;
  let magnitude = tally.approve + tally.reject;
  let listedApprove = 0;
  let listedReject = 0;
  let approveWeight = 0;
  let totalWeight = 0;
  for (const [voter, weight] of voting.weights) {
    const k = fractionBits(weight);
    if (k === undefined) return undefined;
    bits = Math.max(bits, k);
    const votes = tally.votesOf(voter);
    if (votes === undefined) continue;
    listedApprove += votes.approve;
    listedReject += votes.reject;
    magnitude += Math.abs(weight) * (votes.approve + votes.reject);
    approveWeight += weight * votes.approve;
    totalWeight += weight * (votes.approve + votes.reject);
  }
  if (magnitude * 2 ** bits >= 2 ** 52) return undefined;
  // Voters without a listed weight weigh 1.
  const unlistedApprove = tally.approve - listedApprove;
  const unlistedTotal = tally.approve + tally.reject - listedApprove - listedReject;
  return [approveWeight + unlistedApprove, totalWeight + unlistedTotal];
}

/** The weighted sums in the reference's pair order, for weights whose float sums depend on it. */
function orderedWeightedSums(voting: DecisionRules["voting"], tally: DecisionTally): [number, number] {
  let approveWeight = 0;
  let totalWeight = 0;
  for (const { voter, vote } of tally.orderedVotes()) {
    if (vote !== "APPROVE" && vote !== "REJECT") continue;
    const weight = voting.weights.get(voter) ?? 1;
    totalWeight += weight;
    if (vote === "APPROVE") approveWeight += weight;
  }
  return [approveWeight, totalWeight];
}

function weightedResult(voting: DecisionRules["voting"], tally: DecisionTally): VotingResult {
  const [approveWeight, totalWeight] = exactWeightedSums(voting, tally) ?? orderedWeightedSums(voting, tally);
  if (totalWeight === 0) return { kind: "NoVotes" };
  return ratioResult("weighted", approveWeight / totalWeight, voting.threshold, " weighted");
}

/**
 * `votingResult` of §12.9. NoVotes (no APPROVE/REJECT pair) is decided before the algorithm is
 * looked at, so even `unanimous` or an unknown algorithm yields NoVotes on an empty tally.
 */
export function votingResult(
  voting: DecisionRules["voting"],
  tally: DecisionTally,
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
      if (reject === 0 && participants.every((participant) => (tally.votesOf(participant)?.approve ?? 0) > 0)) {
        return { kind: "Passed", reason: "unanimous vote passed: all participants approved" };
      }
      return {
        kind: "Failed",
        reason: `unanimous vote failed: ${approve} approve, ${reject} reject out of ${participants.length} participants`,
      };
    case "weighted":
      return weightedResult(voting, tally);
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
