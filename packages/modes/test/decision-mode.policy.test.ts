import { decision } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { decisionMode } from "../src/index.js";
import { commitmentBytes, customPolicy, envelope, expectRejected, run, sessionView, type Step } from "./mode-test-kit.js";

const MODE = "macp.mode.decision.v1";
const ORCH = "orch";

const proposal = (proposalId = "p1"): Step => ({
  type: "Proposal",
  sender: "a",
  payload: decision.ProposalPayload.encode({ proposalId, option: "go", rationale: "", supportingData: new Uint8Array() }).finish(),
});
const vote = (sender: string, value: string, proposalId = "p1"): Step => ({
  type: "Vote",
  sender,
  payload: decision.VotePayload.encode({ proposalId, vote: value, reason: "" }).finish(),
});
const objection = (sender: string, severity: string): Step => ({
  type: "Objection",
  sender,
  payload: decision.ObjectionPayload.encode({ proposalId: "p1", reason: "no", severity }).finish(),
});
const evaluation = (recommendation: string, confidence: number): Step => ({
  type: "Evaluation",
  sender: "b",
  payload: decision.EvaluationPayload.encode({ proposalId: "p1", recommendation, confidence, reason: "" }).finish(),
});

const ALLOW = null;
const majority = { voting: { algorithm: "majority" } };
const vetoes = { voting: { algorithm: "majority" }, objection_handling: { critical_severity_vetoes: true } };
const VETO = "blocked by 1 blocking objection(s) (veto threshold: 1), from: b";
const FAILED_0 = "majority vote failed: 0.0% approve, need >= 50.0%";
const M2_UNANIMOUS =
  "approval threshold not met but no explicit reject to justify a decline (incomplete participation is not a rejection): unanimous vote failed: 2 approve, 0 reject out of 3 participants";

/**
 * modes-and-policy.md §12.11 worked examples, through the mode so the state the evaluator sees
 * is the state the mode builds: [name, rules, participants, steps, positive verdict, negative verdict].
 */
const EXAMPLES: ReadonlyArray<[string, JsonValue, readonly string[], readonly Step[], readonly string[] | null, readonly string[] | null]> = [
  ["#1 default policy, no votes", {}, [ORCH, "a", "b"], [proposal()], ALLOW, ALLOW],
  [
    "#2 majority, 50% approve",
    majority,
    [ORCH, "a", "b"],
    [proposal(), vote("a", "APPROVE"), vote("b", "REJECT")],
    ALLOW,
    [
      "vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (majority vote passed: 50.0% approve (threshold: 50.0%))",
    ],
  ],
  ["#3 majority with allow_decline_over_approval", { ...majority, commitment: { allow_decline_over_approval: true } }, [ORCH, "a", "b"], [proposal(), vote("a", "APPROVE"), vote("b", "REJECT")], ALLOW, ALLOW],
  ["#4 majority, two rejects", majority, [ORCH, "a", "b"], [proposal(), vote("a", "REJECT"), vote("b", "REJECT")], [FAILED_0], ALLOW],
  ["#5 majority, no votes", majority, [ORCH, "a", "b"], [proposal()], ALLOW, ["no votes cast; a decline requires at least one explicit reject vote"]],
  ["#6 unanimous, initiator silent", { voting: { algorithm: "unanimous" } }, [ORCH, "a", "b"], [proposal(), vote("a", "APPROVE"), vote("b", "APPROVE")], ["unanimous vote failed: 2 approve, 0 reject out of 3 participants"], [M2_UNANIMOUS]],
  ["#7 unanimous, no votes", { voting: { algorithm: "unanimous" } }, [ORCH, "a", "b"], [proposal()], ALLOW, ["no votes cast; a decline requires at least one explicit reject vote"]],
  [
    "#8 unanimous, one abstention",
    { voting: { algorithm: "unanimous" } },
    [ORCH, "a", "b"],
    [proposal(), vote("a", "APPROVE"), vote("b", "ABSTAIN"), vote(ORCH, "APPROVE")],
    ["unanimous vote failed: 2 approve, 0 reject out of 3 participants"],
    [M2_UNANIMOUS],
  ],
  ["#9 plurality tie", { voting: { algorithm: "plurality" } }, [ORCH, "a", "b"], [proposal(), vote("a", "APPROVE"), vote("b", "REJECT")], ["plurality vote tied: 1 approve vs 1 reject"], ALLOW],
  [
    "#10 weighted, abstainer's weight excluded",
    { voting: { algorithm: "weighted", threshold: 0.6, weights: { heavy: 10, light: 1, abst: 100 } } },
    [ORCH, "heavy", "light", "abst", "a"],
    [proposal(), vote("heavy", "APPROVE"), vote("light", "REJECT"), vote("abst", "ABSTAIN")],
    ALLOW,
    [
      "vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (weighted vote passed: 90.9% weighted approve (threshold: 60.0%))",
    ],
  ],
  [
    "#11 majority aggregated over two proposals",
    majority,
    [ORCH, "a", "b"],
    [proposal(), proposal("p2"), vote("a", "APPROVE"), vote("a", "REJECT", "p2"), vote("b", "REJECT", "p2")],
    ["majority vote failed: 33.3% approve, need >= 50.0%"],
    ALLOW,
  ],
  [
    "#12 vote quorum not met",
    { voting: { algorithm: "majority", quorum: { type: "count", value: 3 } }, commitment: { require_vote_quorum: true } },
    [ORCH, "a", "b"],
    [proposal(), vote("a", "APPROVE"), vote("b", "APPROVE")],
    ["vote quorum not met: 2 voters of 3 participants (quorum: 3 count)"],
    [
      "vote quorum not met: 2 voters of 3 participants (quorum: 3 count)",
      "vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (majority vote passed: 100.0% approve (threshold: 50.0%))",
    ],
  ],
  ["#13 critical objection veto (severity sent upper-case)", vetoes, [ORCH, "a", "b"], [proposal(), objection("b", "CRITICAL"), vote("a", "REJECT"), vote("b", "REJECT")], [VETO, FAILED_0], [VETO]],
  [
    "#14 finalize_decline",
    { ...vetoes, objection_handling: { critical_severity_vetoes: true, critical_objection_action: "finalize_decline" } },
    [ORCH, "a", "b"],
    [proposal(), objection("b", "critical"), vote("a", "REJECT"), vote("b", "REJECT")],
    ["veto blocks a positive commitment: 1 blocking objection(s) (veto threshold: 1), from: b (critical_objection_action=finalize_decline)", FAILED_0],
    ALLOW,
  ],
  [
    "#15 hold",
    { ...vetoes, objection_handling: { critical_severity_vetoes: true, critical_objection_action: "hold" } },
    [ORCH, "a", "b"],
    [proposal(), objection("b", "Critical"), vote("a", "REJECT"), vote("b", "REJECT")],
    ["held for escalation by 1 blocking objection(s) (veto threshold: 1), from: b (critical_objection_action=hold)", FAILED_0],
    ["held for escalation by 1 blocking objection(s) (veto threshold: 1), from: b (critical_objection_action=hold)"],
  ],
  [
    "#16 only a REVIEW evaluation does not qualify",
    { evaluation: { required_before_voting: true, minimum_confidence: 0.8 } },
    [ORCH, "a", "b"],
    [proposal(), evaluation("review", 0.95)],
    ["no qualifying evaluation meets minimum confidence threshold: 0.80"],
    ["no qualifying evaluation meets minimum confidence threshold: 0.80"],
  ],
];

describe("decision Commitments judged by the bound policy (§12.11)", () => {
  const cases = EXAMPLES.flatMap(([name, rules, participants, steps, positive, negative]) => [
    [`${name}: positive`, rules, participants, steps, true, positive] as const,
    [`${name}: negative`, rules, participants, steps, false, negative] as const,
  ]);

  it.each(cases)("%s", (_name, rules, participants, steps, outcomePositive, reasons) => {
    const session = sessionView(MODE, ORCH, participants, customPolicy(rules, 2));
    const state = run(decisionMode, session, steps);
    const payload = commitmentBytes({ policyVersion: "policy.custom", action: outcomePositive ? "decision.selected" : "decision.rejected", outcomePositive });
    const outcome = decisionMode.apply(session, state, envelope("Commitment", ORCH, payload));
    if (reasons === null) {
      expect(outcome).toMatchObject({ kind: "accepted", state: { phase: "Committed" }, resolution: payload });
    } else {
      expect(expectRejected(outcome, "POLICY_DENIED", "PolicyDenied").details?.reasons).toEqual(reasons);
    }
  });
});
