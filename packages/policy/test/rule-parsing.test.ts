import { describe, expect, it } from "vitest";
import {
  DEFAULT_COMMITMENT_RULES,
  DEFAULT_DECISION_RULES,
  DEFAULT_HANDOFF_RULES,
  DEFAULT_POLICY,
  DEFAULT_PROPOSAL_RULES,
  DEFAULT_QUORUM_RULES,
  DEFAULT_TASK_RULES,
  parseCommitmentRules,
  parseDecisionRules,
  parseHandoffRules,
  parseProposalRules,
  parseQuorumRules,
  parseTaskRules,
  type JsonValue,
} from "@macp/policy";

const parsers = [
  { mode: "decision", parse: parseDecisionRules, defaults: DEFAULT_DECISION_RULES },
  { mode: "proposal", parse: parseProposalRules, defaults: DEFAULT_PROPOSAL_RULES },
  { mode: "task", parse: parseTaskRules, defaults: DEFAULT_TASK_RULES },
  { mode: "handoff", parse: parseHandoffRules, defaults: DEFAULT_HANDOFF_RULES },
  { mode: "quorum", parse: parseQuorumRules, defaults: DEFAULT_QUORUM_RULES },
  { mode: "commitment", parse: parseCommitmentRules, defaults: DEFAULT_COMMITMENT_RULES },
] as const;

describe("rule parsing falls back to defaults", () => {
  describe.each(parsers)("$mode rules", ({ parse, defaults }) => {
    it.each<{ rules: JsonValue }>([{ rules: {} }, { rules: null }, { rules: [] }, { rules: "x" }, { rules: { unrelated: { a: 1 } } }])(
      "from $rules",
      ({ rules }) => {
        expect(parse(rules)).toEqual(defaults);
      },
    );
  });

  it("reads the default policy's rules as the Decision defaults", () => {
    expect(parseDecisionRules(DEFAULT_POLICY.rules)).toEqual(DEFAULT_DECISION_RULES);
  });
});

describe("rule parsing reads every knob", () => {
  it("reads Decision rules", () => {
    const rules = {
      voting: { algorithm: "weighted", threshold: 0.6, quorum: { type: "percentage", value: 75 }, weights: { a: 2, b: 0.5 } },
      objection_handling: { critical_severity_vetoes: true, veto_threshold: 2, critical_objection_action: "hold" },
      evaluation: { required_before_voting: true, minimum_confidence: 0.8 },
      commitment: { authority: "designated_role", designated_roles: ["lead"], require_vote_quorum: true, allow_decline_over_approval: true },
    };
    expect(parseDecisionRules(rules)).toEqual({
      voting: {
        algorithm: "weighted",
        threshold: 0.6,
        quorum: { type: "percentage", value: 75 },
        weights: new Map([
          ["a", 2],
          ["b", 0.5],
        ]),
      },
      objectionHandling: { criticalSeverityVetoes: true, vetoThreshold: 2, criticalObjectionAction: "hold" },
      evaluation: { requiredBeforeVoting: true, minimumConfidence: 0.8 },
      commitment: { authority: "designated_role", designatedRoles: ["lead"], requireVoteQuorum: true, allowDeclineOverApproval: true },
    });
  });

  it("reads Proposal rules", () => {
    const rules = {
      acceptance: { criterion: "counterparty" },
      counter_proposal: { max_rounds: 3 },
      rejection: { terminal_on_any_reject: true },
      commitment: { authority: "any_participant" },
    };
    expect(parseProposalRules(rules)).toEqual({
      acceptanceCriterion: "counterparty",
      counterProposalMaxRounds: 3,
      terminalOnAnyReject: true,
      commitment: { ...DEFAULT_COMMITMENT_RULES, authority: "any_participant" },
    });
  });

  it("reads Task rules", () => {
    const rules = { assignment: { allow_reassignment_on_reject: true }, completion: { require_output: true } };
    expect(parseTaskRules(rules)).toEqual({
      allowReassignmentOnReject: true,
      requireOutput: true,
      commitment: DEFAULT_COMMITMENT_RULES,
    });
  });

  it("reads Handoff rules", () => {
    expect(parseHandoffRules({ acceptance: { implicit_accept_timeout_ms: 100 } })).toEqual({
      implicitAcceptTimeoutMs: 100,
      commitment: DEFAULT_COMMITMENT_RULES,
    });
  });

  it("reads Quorum rules, ignoring a threshold_type key", () => {
    const rules = {
      threshold: { type: "percentage", threshold_type: "count", value: 50 },
      abstention: { counts_toward_quorum: true, interpretation: "implicit_reject" },
    };
    expect(parseQuorumRules(rules)).toEqual({
      threshold: { type: "percentage", value: 50 },
      abstention: { countsTowardQuorum: true, interpretation: "implicit_reject" },
      commitment: DEFAULT_COMMITMENT_RULES,
    });
  });

  it("reads the commitment section of any mode's rules", () => {
    expect(parseCommitmentRules({ commitment: { authority: "custom", designated_roles: ["x"] } })).toEqual({
      ...DEFAULT_COMMITMENT_RULES,
      authority: "custom",
      designatedRoles: ["x"],
    });
  });
});

describe("a structure that does not type-check falls back as a whole (§12.6)", () => {
  it.each<{ name: string; parse: (rules: JsonValue) => unknown; rules: JsonValue; defaults: unknown }>([
    {
      name: "a '*' policy's threshold number in a quorum session",
      parse: parseQuorumRules,
      rules: { threshold: 5, abstention: { counts_toward_quorum: true } },
      defaults: DEFAULT_QUORUM_RULES,
    },
    {
      name: "a '*' policy's acceptance string in a proposal session",
      parse: parseProposalRules,
      rules: { acceptance: "x", counter_proposal: { max_rounds: 2 } },
      defaults: DEFAULT_PROPOSAL_RULES,
    },
    {
      name: "a float max_rounds",
      parse: parseProposalRules,
      rules: { counter_proposal: { max_rounds: 1.5 }, rejection: { terminal_on_any_reject: true } },
      defaults: DEFAULT_PROPOSAL_RULES,
    },
    {
      name: "a broken commitment section in a handoff policy",
      parse: parseHandoffRules,
      rules: { acceptance: { implicit_accept_timeout_ms: 100 }, commitment: { designated_roles: [1] } },
      defaults: DEFAULT_HANDOFF_RULES,
    },
    {
      name: "an unknown critical_objection_action",
      parse: parseDecisionRules,
      rules: { voting: { algorithm: "majority" }, objection_handling: { critical_objection_action: "maybe" } },
      defaults: DEFAULT_DECISION_RULES,
    },
  ])("$name", ({ parse, rules, defaults }) => {
    expect(parse(rules)).toEqual(defaults);
  });

  it("keeps the commitment section when another section is broken", () => {
    expect(parseCommitmentRules({ threshold: 5, commitment: { authority: "any_participant" } }).authority).toBe(
      "any_participant",
    );
  });
});
