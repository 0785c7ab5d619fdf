import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, evaluateDecision, type JsonValue } from "@macp/policy";
import { decisionState, policyWith, type DecisionStateSpec } from "./fixtures.js";

const M1 = (passed: string): string =>
  `vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (${passed})`;
const M2 = (failed: string): string =>
  `approval threshold not met but no explicit reject to justify a decline (incomplete participation is not a rejection): ${failed}`;
const M3 = "no votes cast; a decline requires at least one explicit reject vote";

const majority = { voting: { algorithm: "majority" } };
const vetoing = { voting: { algorithm: "majority" }, objection_handling: { critical_severity_vetoes: true } };
const vetoWith = (action: string): JsonValue => ({
  voting: { algorithm: "majority" },
  objection_handling: { critical_severity_vetoes: true, critical_objection_action: action },
});
const bothReject: DecisionStateSpec = { votes: [["p1", "a", "REJECT"], ["p1", "b", "REJECT"]] };
const criticalThenRejects: DecisionStateSpec = { ...bothReject, objections: [["b", "critical"]] };
const blocked = "1 blocking objection(s) (veto threshold: 1), from: b";
const failedZero = "majority vote failed: 0.0% approve, need >= 50.0%";

interface WorkedExample {
  readonly example: string;
  readonly rules: JsonValue | "default";
  readonly state: DecisionStateSpec;
  readonly participants?: readonly string[];
  /** Deny reasons for a positive / negative Commitment; empty = allowed. */
  readonly positive: readonly string[];
  readonly negative: readonly string[];
}

// modes-and-policy.md §12.11, Decision table; participants [orch, a, b] unless noted.
const examples: readonly WorkedExample[] = [
  { example: "1 default policy, no votes", rules: "default", state: {}, positive: [], negative: [] },
  {
    example: "2 majority at exactly 50%",
    rules: majority,
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "REJECT"]] },
    positive: [],
    negative: [M1("majority vote passed: 50.0% approve (threshold: 50.0%)")],
  },
  {
    example: "3 majority with allow_decline_over_approval",
    rules: { ...majority, commitment: { allow_decline_over_approval: true } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "REJECT"]] },
    positive: [],
    negative: [],
  },
  { example: "4 majority, two rejects", rules: majority, state: bothReject, positive: [failedZero], negative: [] },
  { example: "5 majority, no votes", rules: majority, state: {}, positive: [], negative: [M3] },
  {
    example: "6 unanimous with a silent participant",
    rules: { voting: { algorithm: "unanimous" } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "APPROVE"]] },
    positive: ["unanimous vote failed: 2 approve, 0 reject out of 3 participants"],
    negative: [M2("unanimous vote failed: 2 approve, 0 reject out of 3 participants")],
  },
  {
    example: "7 unanimous, no votes at all",
    rules: { voting: { algorithm: "unanimous" } },
    state: {},
    positive: [],
    negative: [M3],
  },
  {
    example: "8 unanimous with an abstention",
    rules: { voting: { algorithm: "unanimous" } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "ABSTAIN"], ["p1", "orch", "APPROVE"]] },
    positive: ["unanimous vote failed: 2 approve, 0 reject out of 3 participants"],
    negative: [M2("unanimous vote failed: 2 approve, 0 reject out of 3 participants")],
  },
  {
    example: "9 plurality tie",
    rules: { voting: { algorithm: "plurality" } },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "REJECT"]] },
    positive: ["plurality vote tied: 1 approve vs 1 reject"],
    negative: [],
  },
  {
    example: "10 weighted, abstainer's weight excluded",
    rules: { voting: { algorithm: "weighted", threshold: 0.6, weights: { heavy: 10, light: 1, abst: 100 } } },
    state: { votes: [["p1", "heavy", "APPROVE"], ["p1", "light", "REJECT"], ["p1", "abst", "ABSTAIN"]] },
    participants: ["heavy", "light", "abst"],
    positive: [],
    negative: [M1("weighted vote passed: 90.9% weighted approve (threshold: 60.0%)")],
  },
  {
    example: "11 majority aggregated over two proposals",
    rules: majority,
    state: { votes: [["p1", "a", "APPROVE"], ["p2", "a", "REJECT"], ["p2", "b", "REJECT"]] },
    positive: ["majority vote failed: 33.3% approve, need >= 50.0%"],
    negative: [],
  },
  {
    example: "12 vote quorum not met",
    rules: {
      voting: { algorithm: "majority", quorum: { type: "count", value: 3 } },
      commitment: { require_vote_quorum: true },
    },
    state: { votes: [["p1", "a", "APPROVE"], ["p1", "b", "APPROVE"]] },
    positive: ["vote quorum not met: 2 voters of 3 participants (quorum: 3 count)"],
    negative: [
      "vote quorum not met: 2 voters of 3 participants (quorum: 3 count)",
      M1("majority vote passed: 100.0% approve (threshold: 50.0%)"),
    ],
  },
  {
    example: "13 critical objection veto (deny)",
    rules: vetoing,
    state: criticalThenRejects,
    positive: [`blocked by ${blocked}`, failedZero],
    negative: [`blocked by ${blocked}`],
  },
  {
    example: "14 critical objection veto (finalize_decline)",
    rules: vetoWith("finalize_decline"),
    state: criticalThenRejects,
    positive: [`veto blocks a positive commitment: ${blocked} (critical_objection_action=finalize_decline)`, failedZero],
    negative: [],
  },
  {
    example: "15 critical objection veto (hold)",
    rules: vetoWith("hold"),
    state: criticalThenRejects,
    positive: [`held for escalation by ${blocked} (critical_objection_action=hold)`, failedZero],
    negative: [`held for escalation by ${blocked} (critical_objection_action=hold)`],
  },
  {
    example: "16 only a REVIEW evaluation",
    rules: { evaluation: { required_before_voting: true, minimum_confidence: 0.8 } },
    state: { evaluations: [["REVIEW", 0.95]] },
    positive: ["no qualifying evaluation meets minimum confidence threshold: 0.80"],
    negative: ["no qualifying evaluation meets minimum confidence threshold: 0.80"],
  },
  {
    example: "17 policy.fraud.supermajority-veto: 2/3 is below 0.67",
    rules: {
      voting: { algorithm: "supermajority", threshold: 0.67, quorum: { type: "count", value: 2 } },
      objection_handling: { critical_severity_vetoes: true, veto_threshold: 1 },
      commitment: { authority: "initiator_only", require_vote_quorum: true },
    },
    state: { votes: [["p1", "fraud", "APPROVE"], ["p1", "growth", "APPROVE"], ["p1", "compliance", "REJECT"]] },
    participants: ["coordinator", "fraud", "growth", "compliance"],
    positive: ["supermajority vote failed: 66.7% approve, need >= 67.0%"],
    negative: [],
  },
];

describe("decision evaluation reproduces the worked examples of §12.11", () => {
  describe.each(examples)("example $example", ({ rules, state, participants, positive, negative }) => {
    const policy = rules === "default" ? DEFAULT_POLICY : policyWith(rules);
    const declared = participants ?? ["orch", "a", "b"];

    it("judges a positive commitment", () => {
      expect(evaluateDecision(policy, decisionState(state), declared, true)).toEqual({
        allowed: positive.length === 0,
        reasons: positive,
      });
    });

    it("judges a negative commitment", () => {
      expect(evaluateDecision(policy, decisionState(state), declared, false)).toEqual({
        allowed: negative.length === 0,
        reasons: negative,
      });
    });
  });
});
