import { describe, expect, it } from "vitest";
import { evaluateDecision, type JsonValue } from "@macp/policy";
import { decisionState, policyWith, type DecisionStateSpec } from "./fixtures.js";

const participants = ["orch", "a", "b"];

interface KnobCase {
  readonly name: string;
  readonly rules: JsonValue;
  readonly state: DecisionStateSpec;
  readonly outcomePositive?: boolean;
  readonly participants?: readonly string[];
  /** Expected deny reasons; empty = allowed. */
  readonly reasons: readonly string[];
}

const approveReject: DecisionStateSpec = { votes: [["p1", "a", "APPROVE"], ["p1", "b", "REJECT"]] };
const twoToOne: DecisionStateSpec = {
  votes: [["p1", "a", "APPROVE"], ["p1", "b", "APPROVE"], ["p1", "orch", "REJECT"]],
};

const cases: readonly KnobCase[] = [
  // voting.algorithm
  { name: "algorithm none takes the outcome at face value", rules: { voting: { algorithm: "none" } }, state: {}, outcomePositive: false, reasons: [] },
  {
    name: "an unknown algorithm fails once there are votes",
    rules: { voting: { algorithm: "ranked" } },
    state: approveReject,
    reasons: ["unknown voting algorithm 'ranked'; supported: majority, supermajority, unanimous, weighted, plurality, none"],
  },
  { name: "an unknown algorithm without votes is NoVotes", rules: { voting: { algorithm: "ranked" } }, state: {}, reasons: [] },
  { name: "plurality passes with more approvals", rules: { voting: { algorithm: "plurality" } }, state: twoToOne, reasons: [] },
  {
    name: "plurality fails with more rejections",
    rules: { voting: { algorithm: "plurality" } },
    state: { votes: [["p1", "a", "REJECT"], ["p1", "b", "REJECT"], ["p1", "orch", "APPROVE"]] },
    reasons: ["plurality vote failed: 1 approve vs 2 reject"],
  },
  {
    name: "unanimous passes when every declared participant approves",
    rules: { voting: { algorithm: "unanimous" } },
    state: { votes: [["p1", "a", "APPROVE"], ["p2", "b", "APPROVE"], ["p1", "orch", "APPROVE"]] },
    reasons: [],
  },
  {
    name: "unanimous fails on any reject",
    rules: { voting: { algorithm: "unanimous" } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "APPROVE"], ["p1", "orch", "APPROVE"], ["p2", "a", "REJECT"]] },
    reasons: ["unanimous vote failed: 3 approve, 1 reject out of 3 participants"],
  },
  // voting.threshold
  { name: "majority passes at a lower threshold", rules: { voting: { algorithm: "majority", threshold: 0.6 } }, state: twoToOne, reasons: [] },
  {
    name: "majority fails below a raised threshold",
    rules: { voting: { algorithm: "majority", threshold: 0.75 } },
    state: twoToOne,
    reasons: ["majority vote failed: 66.7% approve, need >= 75.0%"],
  },
  {
    name: "supermajority without a threshold above 0.5 needs two thirds",
    rules: { voting: { algorithm: "supermajority" } },
    state: twoToOne,
    reasons: [],
  },
  {
    name: "supermajority below its explicit threshold fails",
    rules: { voting: { algorithm: "supermajority", threshold: 0.75 } },
    state: twoToOne,
    reasons: ["supermajority vote failed: 66.7% approve, need >= 75.0%"],
  },
  {
    name: "supermajority passes at its explicit threshold",
    rules: { voting: { algorithm: "supermajority", threshold: 0.6 } },
    state: twoToOne,
    reasons: [],
  },
  // voting.weights
  {
    name: "weights let a heavy approver carry the vote",
    rules: { voting: { algorithm: "weighted", weights: { a: 5 } } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "REJECT"], ["p1", "orch", "REJECT"]] },
    reasons: [],
  },
  {
    name: "weights let a heavy rejecter sink the vote",
    rules: { voting: { algorithm: "weighted", weights: { b: 5 } } },
    state: approveReject,
    reasons: ["weighted vote failed: 16.7% weighted approve, need >= 50.0%"],
  },
  {
    name: "weighted votes of total weight zero count as no votes",
    rules: { voting: { algorithm: "weighted", weights: { a: 0, b: 0 } } },
    state: approveReject,
    outcomePositive: false,
    reasons: ["no votes cast; a decline requires at least one explicit reject vote"],
  },
  // voting.quorum.type / value and commitment.require_vote_quorum
  {
    name: "a count quorum that is met allows",
    rules: { voting: { quorum: { type: "count", value: 2 } }, commitment: { require_vote_quorum: true } },
    state: approveReject,
    reasons: [],
  },
  {
    name: "a percentage quorum uses the 0-100 scale",
    rules: { voting: { quorum: { type: "percentage", value: 67 } }, commitment: { require_vote_quorum: true } },
    state: approveReject,
    reasons: ["vote quorum not met: 2 voters of 3 participants (quorum: 67 percentage)"],
  },
  {
    name: "a percentage quorum that is met allows",
    rules: { voting: { quorum: { type: "percentage", value: 66.5 } }, commitment: { require_vote_quorum: true } },
    state: approveReject,
    reasons: [],
  },
  {
    name: "n_of_m counts distinct voters, abstainers included",
    rules: { voting: { quorum: { type: "n_of_m", value: 3 } }, commitment: { require_vote_quorum: true } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "ABSTAIN"], ["p2", "a", "REJECT"]] },
    reasons: ["vote quorum not met: 2 voters of 3 participants (quorum: 3 n_of_m)"],
  },
  {
    name: "an unknown quorum type is a count, fractional values print as given",
    rules: { voting: { quorum: { type: "most", value: 2.5 } }, commitment: { require_vote_quorum: true } },
    state: approveReject,
    reasons: ["vote quorum not met: 2 voters of 3 participants (quorum: 2.5 most)"],
  },
  {
    name: "the quorum is not enforced without require_vote_quorum",
    rules: { voting: { quorum: { type: "count", value: 3 } } },
    state: {},
    reasons: [],
  },
  {
    name: "require_vote_quorum denies a positive commit with no votes",
    rules: { voting: { algorithm: "majority" }, commitment: { require_vote_quorum: true } },
    state: {},
    reasons: ["no votes cast"],
  },
  {
    name: "a percentage quorum over no participants is met only by a value of at most 0",
    rules: { voting: { quorum: { type: "percentage", value: 1 } }, commitment: { require_vote_quorum: true } },
    state: {},
    participants: [],
    reasons: ["vote quorum not met: 0 voters of 0 participants (quorum: 1 percentage)"],
  },
  // commitment.allow_decline_over_approval
  {
    name: "allow_decline_over_approval permits a decline over a passing vote",
    rules: { voting: { algorithm: "plurality" }, commitment: { allow_decline_over_approval: true } },
    state: twoToOne,
    outcomePositive: false,
    reasons: [],
  },
  {
    name: "without allow_decline_over_approval a decline over a passing vote is denied",
    rules: { voting: { algorithm: "plurality" } },
    state: twoToOne,
    outcomePositive: false,
    reasons: [
      "vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (plurality vote passed: 2 approve vs 1 reject)",
    ],
  },
  // objection_handling.*
  {
    name: "critical objections do not veto unless critical_severity_vetoes",
    rules: { objection_handling: { veto_threshold: 1 } },
    state: { objections: [["a", "critical"]] },
    reasons: [],
  },
  {
    name: "only critical objections count toward the veto",
    rules: { objection_handling: { critical_severity_vetoes: true } },
    state: { objections: [["a", "high"], ["b", "medium"]] },
    reasons: [],
  },
  {
    name: "the veto waits for veto_threshold critical objections",
    rules: { objection_handling: { critical_severity_vetoes: true, veto_threshold: 3 } },
    state: { objections: [["a", "critical"], ["a", "critical"]] },
    reasons: [],
  },
  {
    name: "every critical objection record counts, repeated senders included",
    rules: { objection_handling: { critical_severity_vetoes: true, veto_threshold: 2 } },
    state: { objections: [["a", "critical"], ["a", "critical"]] },
    reasons: ["blocked by 2 blocking objection(s) (veto threshold: 2), from: a, a"],
  },
  {
    name: "a veto threshold of 0 fires with no objections at all",
    rules: { objection_handling: { critical_severity_vetoes: true, veto_threshold: 0 } },
    state: {},
    reasons: ["blocked by 0 blocking objection(s) (veto threshold: 0), from: "],
  },
  {
    name: "finalize_decline still requires the decline to pass the vote gate",
    rules: {
      voting: { algorithm: "majority" },
      objection_handling: { critical_severity_vetoes: true, critical_objection_action: "finalize_decline" },
    },
    state: { objections: [["a", "critical"]] },
    outcomePositive: false,
    reasons: ["no votes cast; a decline requires at least one explicit reject vote"],
  },
  // evaluation.*
  {
    name: "required_before_voting is satisfied by any non-REVIEW evaluation",
    rules: { evaluation: { required_before_voting: true } },
    state: { evaluations: [["BLOCK", 0.1]] },
    reasons: [],
  },
  {
    name: "required_before_voting denies without a qualifying evaluation",
    rules: { evaluation: { required_before_voting: true } },
    state: { evaluations: [["review", 1]] },
    reasons: ["evaluations required before voting but none provided (REVIEW evaluations are informational only)"],
  },
  {
    name: "minimum_confidence is met by a qualifying evaluation at the bound",
    rules: { evaluation: { required_before_voting: true, minimum_confidence: 0.7 } },
    state: { evaluations: [["APPROVE", 0.5], ["REJECT", 0.7]] },
    reasons: [],
  },
  {
    name: "minimum_confidence prints with two decimals, ties to even",
    rules: { evaluation: { required_before_voting: true, minimum_confidence: 0.125 } },
    state: { evaluations: [["APPROVE", 0.1]] },
    reasons: ["no qualifying evaluation meets minimum confidence threshold: 0.12"],
  },
  {
    name: "minimum_confidence has no effect without required_before_voting",
    rules: { evaluation: { minimum_confidence: 0.9 } },
    state: {},
    reasons: [],
  },
];

describe("decision evaluation applies each rule knob", () => {
  it.each(cases)("$name", ({ rules, state, outcomePositive, participants: declared, reasons }) => {
    const verdict = evaluateDecision(policyWith(rules), decisionState(state), declared ?? participants, outcomePositive ?? true);
    expect(verdict).toEqual({ allowed: reasons.length === 0, reasons });
  });
});

describe("decision evaluation gates on the schema version", () => {
  it.each([1, 2])("evaluates schema version %i", (version) => {
    expect(evaluateDecision(policyWith({}, version), decisionState(), participants, true).allowed).toBe(true);
  });

  it.each([0, 3, 42])("denies schema version %i before anything else", (version) => {
    const verdict = evaluateDecision(
      policyWith({ evaluation: { required_before_voting: true } }, version),
      decisionState(),
      participants,
      true,
    );
    expect(verdict).toEqual({
      allowed: false,
      reasons: [`unsupported policy schema version: ${version} (supported: [1, 2])`],
    });
  });

  it("honours version-2 knobs under a version-1 policy", () => {
    const rules = { voting: { algorithm: "plurality" }, commitment: { allow_decline_over_approval: true } };
    expect(evaluateDecision(policyWith(rules, 1), decisionState(twoToOne), participants, false).allowed).toBe(true);
  });
});

describe("decision evaluation without a bound policy", () => {
  it("allows every outcome, as replay of a policy-less session does", () => {
    expect(evaluateDecision(null, decisionState(), participants, false)).toEqual({ allowed: true, reasons: [] });
  });
});

describe("decision evaluation with rules that do not type-check", () => {
  it("falls back to the default rules as a whole", () => {
    const rules = { voting: { algorithm: "majority", threshold: "high" } };
    expect(evaluateDecision(policyWith(rules), decisionState(), participants, false).allowed).toBe(true);
  });
});
