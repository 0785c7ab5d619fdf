import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY,
  evaluateHandoff,
  evaluateProposal,
  evaluateQuorum,
  evaluateTask,
  type JsonValue,
  type PolicyVerdict,
  type ProposalPolicyInput,
  type QuorumPolicyInput,
  type TaskPolicyInput,
} from "@macp/policy";
import { policyWith } from "./fixtures.js";

const verdict = (reasons: readonly string[]): PolicyVerdict => ({ allowed: reasons.length === 0, reasons });

describe("proposal evaluation enforces counter_proposal.max_rounds", () => {
  // p1 original, p2 counters p1, p3 counters p2 (withdrawn counter-proposals still count).
  const state: ProposalPolicyInput = {
    proposals: {
      p1: { supersedes_proposal_id: null },
      p2: { supersedes_proposal_id: "p1" },
      p3: { supersedes_proposal_id: "p2" },
    },
  };

  it.each<{ rules: JsonValue; reasons: readonly string[] }>([
    { rules: {}, reasons: [] },
    { rules: { counter_proposal: { max_rounds: 0 } }, reasons: [] },
    { rules: { counter_proposal: { max_rounds: 2 } }, reasons: [] },
    { rules: { counter_proposal: { max_rounds: 1 } }, reasons: ["counter-proposal limit exceeded: 2 of 1 allowed"] },
  ])("rules $rules", ({ rules, reasons }) => {
    expect(evaluateProposal(policyWith(rules), state)).toEqual(verdict(reasons));
  });
});

describe("task evaluation enforces completion.require_output", () => {
  const complete = (output: readonly number[]): TaskPolicyInput => ({
    terminal_report: { Complete: { output } },
  });
  const failed: TaskPolicyInput = { terminal_report: { Fail: { error_code: "E", reason: "r", retryable: false } } };
  const requireOutput = { completion: { require_output: true } };
  const denied = ["policy requires task output before commitment"];

  it.each<{ name: string; rules: JsonValue; state: TaskPolicyInput; reasons: readonly string[] }>([
    { name: "output present", rules: requireOutput, state: complete([104, 105]), reasons: [] },
    { name: "empty output", rules: requireOutput, state: complete([]), reasons: denied },
    { name: "a failed task, even for task.failed", rules: requireOutput, state: failed, reasons: denied },
    { name: "no report at all", rules: requireOutput, state: { terminal_report: null }, reasons: denied },
    { name: "empty output without the knob", rules: {}, state: complete([]), reasons: [] },
    { name: "a failed task without the knob", rules: { completion: { require_output: false } }, state: failed, reasons: [] },
  ])("$name", ({ rules, state, reasons }) => {
    expect(evaluateTask(policyWith(rules), state)).toEqual(verdict(reasons));
  });

  it("accepts byte output as a Uint8Array", () => {
    const state: TaskPolicyInput = { terminal_report: { Complete: { output: new Uint8Array([1]) } } };
    expect(evaluateTask(policyWith(requireOutput), state).allowed).toBe(true);
  });
});

describe("handoff evaluation", () => {
  it("allows under any rules, implicit accept being the mode's business", () => {
    const rules = { acceptance: { implicit_accept_timeout_ms: 100 } };
    expect(evaluateHandoff(policyWith(rules), { offers: {} })).toEqual(verdict([]));
  });
});

describe("quorum evaluation enforces the participation threshold (§12.11 quorum table)", () => {
  const participants = ["alice", "bob", "carol"];
  const ballots = (...choices: readonly (readonly [string, string])[]): QuorumPolicyInput => ({
    ballots: Object.fromEntries(choices.map(([sender, choice]) => [sender, { choice }])),
  });

  it.each<{ name: string; rules: JsonValue; state: QuorumPolicyInput; reasons: readonly string[] }>([
    {
      name: "default policy with two approvals",
      rules: {},
      state: ballots(["alice", "Approve"], ["bob", "Approve"]),
      reasons: [],
    },
    {
      name: "abstentions do not count toward the quorum by default",
      rules: { threshold: { type: "n_of_m", value: 3 }, abstention: { counts_toward_quorum: false } },
      state: ballots(["alice", "Approve"], ["bob", "Approve"], ["carol", "Abstain"]),
      reasons: ["quorum not met: 2 effective voters of 3 participants (threshold: 3 n_of_m)"],
    },
    {
      name: "abstentions count when counts_toward_quorum",
      rules: { threshold: { type: "n_of_m", value: 3 }, abstention: { counts_toward_quorum: true } },
      state: ballots(["alice", "Approve"], ["bob", "Approve"], ["carol", "Abstain"]),
      reasons: [],
    },
    {
      name: "a negative outcome needs the participation too",
      rules: { threshold: { type: "n_of_m", value: 3 } },
      state: ballots(["alice", "Reject"]),
      reasons: ["quorum not met: 1 effective voters of 3 participants (threshold: 3 n_of_m)"],
    },
    {
      name: "a percentage threshold on the 0-100 scale that is met",
      rules: { threshold: { type: "percentage", value: 50 } },
      state: ballots(["alice", "Approve"], ["bob", "Reject"]),
      reasons: [],
    },
    {
      name: "a percentage threshold on the 0-100 scale that is not met",
      rules: { threshold: { type: "percentage", value: 50 } },
      state: ballots(["alice", "Approve"]),
      reasons: ["quorum not met: 1 effective voters of 3 participants (threshold: 50 percentage)"],
    },
    {
      name: "weighted and unknown types are counts",
      rules: { threshold: { type: "weighted", value: 2 } },
      state: ballots(["alice", "Approve"]),
      reasons: ["quorum not met: 1 effective voters of 3 participants (threshold: 2 weighted)"],
    },
    {
      name: "a zero threshold imposes nothing",
      rules: { threshold: { type: "n_of_m", value: 0 } },
      state: ballots(),
      reasons: [],
    },
    {
      name: "interpretation never denies",
      rules: { abstention: { interpretation: "implicit_reject" } },
      state: ballots(["alice", "Abstain"], ["bob", "Abstain"], ["carol", "Abstain"]),
      reasons: [],
    },
  ])("$name", ({ rules, state, reasons }) => {
    expect(evaluateQuorum(policyWith(rules), state, participants)).toEqual(verdict(reasons));
  });
});

describe("every standard-mode evaluator gates on the schema version", () => {
  const policy = policyWith({}, 3);
  const reason = "unsupported policy schema version: 3 (supported: [1, 2])";

  it.each<{ mode: string; evaluate: () => PolicyVerdict }>([
    { mode: "proposal", evaluate: () => evaluateProposal(policy, { proposals: {} }) },
    { mode: "task", evaluate: () => evaluateTask(policy, { terminal_report: null }) },
    { mode: "handoff", evaluate: () => evaluateHandoff(policy, { offers: {} }) },
    { mode: "quorum", evaluate: () => evaluateQuorum(policy, { ballots: {} }, ["a"]) },
  ])("$mode denies version 3", ({ evaluate }) => {
    expect(evaluate()).toEqual(verdict([reason]));
  });

  it.each<{ mode: string; evaluate: () => PolicyVerdict }>([
    { mode: "proposal", evaluate: () => evaluateProposal(policyWith({}, 2), { proposals: {} }) },
    { mode: "task", evaluate: () => evaluateTask(policyWith({}, 2), { terminal_report: null }) },
    { mode: "handoff", evaluate: () => evaluateHandoff(policyWith({}, 2), { offers: {} }) },
    { mode: "quorum", evaluate: () => evaluateQuorum(policyWith({}, 2), { ballots: {} }, ["a"]) },
  ])("$mode accepts version 2", ({ evaluate }) => {
    expect(evaluate()).toEqual(verdict([]));
  });
});

describe("standard-mode evaluators without a bound policy or under the default policy", () => {
  it.each<{ mode: string; evaluate: (policy: typeof DEFAULT_POLICY | null) => PolicyVerdict }>([
    { mode: "proposal", evaluate: (p) => evaluateProposal(p, { proposals: { p2: { supersedes_proposal_id: "p1" } } }) },
    { mode: "task", evaluate: (p) => evaluateTask(p, { terminal_report: null }) },
    { mode: "handoff", evaluate: (p) => evaluateHandoff(p, { offers: {} }) },
    { mode: "quorum", evaluate: (p) => evaluateQuorum(p, { ballots: {} }, ["a"]) },
  ])("$mode allows", ({ evaluate }) => {
    expect(evaluate(null)).toEqual(verdict([]));
    expect(evaluate(DEFAULT_POLICY)).toEqual(verdict([]));
  });
});

describe("use-time parsing falls back to defaults for a whole mismatched structure (§12.6)", () => {
  it("ignores a quorum threshold written as a bare number", () => {
    const policy = policyWith({ threshold: 5, abstention: { counts_toward_quorum: true } });
    expect(evaluateQuorum(policy, { ballots: {} }, ["a"])).toEqual(verdict([]));
  });

  it("ignores task rules when any task knob has the wrong type", () => {
    const policy = policyWith({ completion: { require_output: true }, assignment: "x" });
    expect(evaluateTask(policy, { terminal_report: null })).toEqual(verdict([]));
  });
});
