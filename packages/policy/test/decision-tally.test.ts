import { describe, expect, it } from "vitest";
import { decisionTallyOf, evaluateDecision, type JsonValue } from "@macp/policy";
import { decisionState, policyWith } from "./fixtures.js";

/** A small deterministic generator, so a failure names its case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The reference's weighted ratio: weights summed pair by pair in (proposal, voter) code-point order. */
function orderedWeightedRatio(weights: Record<string, number>, votes: readonly (readonly [string, string, string])[]): number {
  const byProposal = new Map<string, Map<string, string>>();
  for (const [proposal, voter, vote] of votes) byProposal.set(proposal, (byProposal.get(proposal) ?? new Map()).set(voter, vote));
  let approve = 0;
  let total = 0;
  for (const proposal of [...byProposal.keys()].sort()) {
    const byVoter = byProposal.get(proposal) ?? new Map<string, string>();
    for (const voter of [...byVoter.keys()].sort()) {
      const vote = byVoter.get(voter);
      if (vote !== "APPROVE" && vote !== "REJECT") continue;
      const weight = weights[voter] ?? 1;
      total += weight;
      if (vote === "APPROVE") approve += weight;
    }
  }
  return approve / total;
}

/** The next double above a positive `value`. */
function nextUp(value: number): number {
  const bits = new BigInt64Array(new Float64Array([value]).buffer);
  bits[0] = (bits[0] ?? 0n) + 1n;
  return new Float64Array(bits.buffer)[0] ?? value;
}

describe("decision tally", () => {
  it("counts votes, voters, qualifying evaluations and critical objectors of a state", () => {
    const tally = decisionTallyOf(
      decisionState({
        votes: [["p1", "a", "APPROVE"], ["p2", "a", "REJECT"], ["p1", "b", "ABSTAIN"], ["p2", "c", "APPROVE"]],
        evaluations: [["REVIEW", 0.9], ["approve", 0.4], ["BLOCK", 0.7]],
        objections: [["x", "critical"], ["y", "low"], ["z", "critical"]],
      }),
    );
    expect([tally.approve, tally.reject, tally.distinctVoters]).toEqual([2, 1, 3]);
    expect(tally.votesOf("a")).toEqual({ approve: 1, reject: 1 });
    expect(tally.votesOf("b")).toEqual({ approve: 0, reject: 0 });
    expect(tally.votesOf("d")).toBeUndefined();
    expect([tally.qualifyingEvaluations, tally.maxQualifyingConfidence]).toEqual([2, 0.7]);
    expect(tally.criticalObjectors()).toEqual(["x", "z"]);
  });

  it("decides weighted votes exactly as summing the weights in the reference's order, whatever the weights", () => {
    const next = random(7);
    const weightChoices = [1, 2, 0.5, 0.25, 3, 0.1, 0.2, 0.3, 1 / 3, 1e-9, 7.75];
    const voters = ["a", "b", "c", "d", "e", "f"];
    for (let trial = 0; trial < 500; trial++) {
      const weights: Record<string, number> = {};
      for (const voter of voters.slice(0, 1 + Math.floor(next() * voters.length))) {
        weights[voter] = weightChoices[Math.floor(next() * weightChoices.length)] ?? 1;
      }
      const votes: [string, string, string][] = [];
      for (const proposal of ["p1", "p2", "p3"]) {
        for (const voter of voters) {
          if (next() < 0.3) continue;
          votes.push([proposal, voter, next() < 0.5 ? "APPROVE" : next() < 0.8 ? "REJECT" : "ABSTAIN"]);
        }
      }
      if (!votes.some(([, , vote]) => vote !== "ABSTAIN")) continue;
      const ratio = orderedWeightedRatio(weights, votes);
      if (!(ratio > 0)) continue;
      // Thresholds at the reference's ratio and one bit above it: any other rounding flips a verdict.
      for (const [threshold, allowed] of [[ratio, true], [nextUp(ratio), false]] as const) {
        const rules: JsonValue = { voting: { algorithm: "weighted", threshold, weights } };
        const verdict = evaluateDecision(policyWith(rules), decisionState({ votes }), voters, true);
        expect(verdict.allowed, JSON.stringify({ weights, votes, threshold })).toBe(allowed);
      }
    }
  });
});
