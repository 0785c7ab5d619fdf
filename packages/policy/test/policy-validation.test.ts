import { describe, expect, it } from "vitest";
import { validatePolicyDefinition, type JsonValue, type PolicyDefinition } from "@macp/policy";

const DECISION = "macp.mode.decision.v1";

const definition = (overrides: Partial<PolicyDefinition>): PolicyDefinition => ({
  policyId: "policy.custom",
  mode: DECISION,
  description: "",
  rules: {},
  schemaVersion: 1,
  ...overrides,
});

const shapeError = (mode: string, detail: string): string => `rules do not match schema for mode '${mode}': ${detail}`;

describe("registration validation reports the first failing check, in §12.3 order", () => {
  it.each<{ name: string; def: Partial<PolicyDefinition>; error: string }>([
    { name: "#1 empty policy_id", def: { policyId: "" }, error: "policy_id must not be empty" },
    { name: "#1 whitespace-only policy_id", def: { policyId: " \t\u3000" }, error: "policy_id must not be empty" },
    {
      name: "#1 precedes every later check",
      def: { policyId: " ", schemaVersion: 0, rules: [] },
      error: "policy_id must not be empty",
    },
    {
      name: "#2 the reserved id",
      def: { policyId: "policy.default", schemaVersion: 0 },
      error: "cannot register with reserved policy_id 'policy.default'",
    },
    { name: "#3 schema version 0", def: { schemaVersion: 0, rules: [] }, error: "schema_version must be > 0" },
    { name: "#4 array rules", def: { rules: [] }, error: "rules must be a JSON object" },
    { name: "#4 null rules", def: { rules: null }, error: "rules must be a JSON object" },
    { name: "#4 string rules", def: { rules: "{}" }, error: "rules must be a JSON object" },
    {
      name: "#5 precedes #6",
      def: { rules: { voting: { algorithm: "weighted", threshold: "x" } } },
      error: shapeError(DECISION, 'voting.threshold: invalid type: string "x", expected a number'),
    },
    {
      name: "#6 weighted without weights",
      def: { rules: { voting: { algorithm: "weighted" } } },
      error: "voting.algorithm 'weighted' requires non-empty voting.weights",
    },
    {
      name: "#6 weighted with empty weights",
      def: { rules: { voting: { algorithm: "weighted", weights: {} } } },
      error: "voting.algorithm 'weighted' requires non-empty voting.weights",
    },
    {
      name: "#7 supermajority with the default threshold",
      def: { rules: { voting: { algorithm: "supermajority" } } },
      error: "voting.algorithm 'supermajority' requires voting.threshold > 0.5",
    },
    {
      name: "#7 supermajority at exactly 0.5",
      def: { mode: "*", rules: { voting: { algorithm: "supermajority", threshold: 0.5 } } },
      error: "voting.algorithm 'supermajority' requires voting.threshold > 0.5",
    },
    {
      name: "#7 precedes #8",
      def: { rules: { voting: { algorithm: "supermajority" }, commitment: { authority: "designated_role" } } },
      error: "voting.algorithm 'supermajority' requires voting.threshold > 0.5",
    },
    {
      name: "#8 designated_role without roles",
      def: { rules: { commitment: { authority: "designated_role" } } },
      error: "commitment.authority 'designated_role' requires non-empty commitment.designated_roles",
    },
    {
      name: "#8 applies to extension modes",
      def: { mode: "ext.custom.v1", rules: { commitment: { authority: "designated_role", designated_roles: [] } } },
      error: "commitment.authority 'designated_role' requires non-empty commitment.designated_roles",
    },
  ])("$name", ({ def, error }) => {
    expect(validatePolicyDefinition(definition(def))).toBe(error);
  });
});

describe("registration validation accepts well-formed definitions", () => {
  it.each<{ name: string; def: Partial<PolicyDefinition> }>([
    { name: "empty rules", def: {} },
    { name: "any positive schema version", def: { schemaVersion: 7 } },
    { name: "weighted with weights", def: { rules: { voting: { algorithm: "weighted", weights: { a: 2 } } } } },
    { name: "supermajority above 0.5", def: { rules: { voting: { algorithm: "supermajority", threshold: 0.51 } } } },
    { name: "designated_role with roles", def: { rules: { commitment: { authority: "designated_role", designated_roles: ["a"] } } } },
    { name: "unknown keys at every level", def: { rules: { extra: 1, voting: { extra: null, quorum: { extra: [] } } } } },
    { name: "any string for string knobs", def: { rules: { voting: { algorithm: "ranked", quorum: { type: "most" } } } } },
    { name: "an extension mode with any object", def: { mode: "ext.custom.v1", rules: { voting: "anything" } } },
    { name: "an empty mode string", def: { mode: "", rules: { threshold: 5 } } },
    { name: "an extension mode whose commitment does not type-check", def: { mode: "ext.x", rules: { commitment: { authority: "designated_role", designated_roles: 5 } } } },
    { name: "a blank description and verbatim ids", def: { policyId: " padded ", description: "" } },
  ])("$name", ({ def }) => {
    expect(validatePolicyDefinition(definition(def))).toBeUndefined();
  });
});

/** One wrong-typed value per knob, checked against each mode whose shape holds it. */
interface KnobCase {
  readonly mode: string;
  readonly rules: JsonValue;
  readonly detail: string;
}

const knobCases: readonly KnobCase[] = [
  { mode: DECISION, rules: { voting: [] }, detail: "voting: invalid type: array, expected an object" },
  { mode: DECISION, rules: { voting: null }, detail: "voting: invalid type: null, expected an object" },
  { mode: DECISION, rules: { voting: { algorithm: 1 } }, detail: "voting.algorithm: invalid type: integer `1`, expected a string" },
  { mode: DECISION, rules: { voting: { threshold: true } }, detail: "voting.threshold: invalid type: boolean `true`, expected a number" },
  { mode: "*", rules: { voting: { quorum: 2 } }, detail: "voting.quorum: invalid type: integer `2`, expected an object" },
  { mode: "*", rules: { voting: { quorum: { type: null } } }, detail: "voting.quorum.type: invalid type: null, expected a string" },
  { mode: "*", rules: { voting: { quorum: { value: "3" } } }, detail: 'voting.quorum.value: invalid type: string "3", expected a number' },
  { mode: DECISION, rules: { voting: { weights: [1] } }, detail: "voting.weights: invalid type: array, expected an object" },
  { mode: DECISION, rules: { voting: { weights: { a: "2" } } }, detail: 'voting.weights["a"]: invalid type: string "2", expected a number' },
  {
    mode: DECISION,
    rules: { objection_handling: { critical_severity_vetoes: "yes" } },
    detail: 'objection_handling.critical_severity_vetoes: invalid type: string "yes", expected a boolean',
  },
  {
    mode: DECISION,
    rules: { objection_handling: { veto_threshold: 1.5 } },
    detail: "objection_handling.veto_threshold: invalid type: floating point `1.5`, expected an unsigned integer (u32)",
  },
  {
    mode: DECISION,
    rules: { objection_handling: { veto_threshold: -1 } },
    detail: "objection_handling.veto_threshold: invalid value: integer `-1`, expected an unsigned integer (u32)",
  },
  {
    mode: DECISION,
    rules: { objection_handling: { veto_threshold: 4294967296 } },
    detail: "objection_handling.veto_threshold: invalid value: integer `4294967296`, expected an unsigned integer (u32)",
  },
  {
    mode: DECISION,
    rules: { objection_handling: { critical_objection_action: "escalate" } },
    detail: 'objection_handling.critical_objection_action: unknown variant "escalate", expected one of "deny", "finalize_decline", "hold"',
  },
  {
    mode: DECISION,
    rules: { objection_handling: { critical_objection_action: "DENY" } },
    detail: 'objection_handling.critical_objection_action: unknown variant "DENY", expected one of "deny", "finalize_decline", "hold"',
  },
  {
    mode: DECISION,
    rules: { evaluation: { required_before_voting: 1 } },
    detail: "evaluation.required_before_voting: invalid type: integer `1`, expected a boolean",
  },
  {
    mode: DECISION,
    rules: { evaluation: { minimum_confidence: "high" } },
    detail: 'evaluation.minimum_confidence: invalid type: string "high", expected a number',
  },
  { mode: DECISION, rules: { commitment: { authority: false } }, detail: "commitment.authority: invalid type: boolean `false`, expected a string" },
  { mode: DECISION, rules: { commitment: { designated_roles: "a" } }, detail: 'commitment.designated_roles: invalid type: string "a", expected an array' },
  { mode: DECISION, rules: { commitment: { designated_roles: ["a", 2] } }, detail: "commitment.designated_roles[1]: invalid type: integer `2`, expected a string" },
  { mode: DECISION, rules: { commitment: { require_vote_quorum: "true" } }, detail: 'commitment.require_vote_quorum: invalid type: string "true", expected a boolean' },
  {
    mode: DECISION,
    rules: { commitment: { allow_decline_over_approval: 0 } },
    detail: "commitment.allow_decline_over_approval: invalid type: integer `0`, expected a boolean",
  },
  {
    mode: "macp.mode.proposal.v1",
    rules: { acceptance: { criterion: ["all_parties"] } },
    detail: "acceptance.criterion: invalid type: array, expected a string",
  },
  {
    mode: "macp.mode.proposal.v1",
    rules: { acceptance: "counterparty" },
    detail: 'acceptance: invalid type: string "counterparty", expected an object',
  },
  {
    mode: "macp.mode.proposal.v1",
    rules: { counter_proposal: { max_rounds: -2 } },
    detail: "counter_proposal.max_rounds: invalid value: integer `-2`, expected an unsigned integer (u64)",
  },
  {
    mode: "macp.mode.proposal.v1",
    rules: { rejection: { terminal_on_any_reject: null } },
    detail: "rejection.terminal_on_any_reject: invalid type: null, expected a boolean",
  },
  {
    mode: "macp.mode.proposal.v1",
    rules: { commitment: { require_vote_quorum: 1 } },
    detail: "commitment.require_vote_quorum: invalid type: integer `1`, expected a boolean",
  },
  {
    mode: "macp.mode.task.v1",
    rules: { assignment: { allow_reassignment_on_reject: "yes" } },
    detail: 'assignment.allow_reassignment_on_reject: invalid type: string "yes", expected a boolean',
  },
  {
    mode: "macp.mode.task.v1",
    rules: { completion: { require_output: 1 } },
    detail: "completion.require_output: invalid type: integer `1`, expected a boolean",
  },
  {
    mode: "macp.mode.handoff.v1",
    rules: { acceptance: { implicit_accept_timeout_ms: 1.5 } },
    detail: "acceptance.implicit_accept_timeout_ms: invalid type: floating point `1.5`, expected an unsigned integer (u64)",
  },
  {
    mode: "macp.mode.handoff.v1",
    rules: { acceptance: { implicit_accept_timeout_ms: 2 ** 65 } },
    detail: "acceptance.implicit_accept_timeout_ms: invalid value: integer `36893488147419103000`, expected an unsigned integer (u64)",
  },
  { mode: "macp.mode.quorum.v1", rules: { threshold: 5 }, detail: "threshold: invalid type: integer `5`, expected an object" },
  { mode: "macp.mode.quorum.v1", rules: { threshold: { type: 1 } }, detail: "threshold.type: invalid type: integer `1`, expected a string" },
  { mode: "macp.mode.quorum.v1", rules: { threshold: { value: "2" } }, detail: 'threshold.value: invalid type: string "2", expected a number' },
  {
    mode: "macp.mode.quorum.v1",
    rules: { abstention: { counts_toward_quorum: "no" } },
    detail: 'abstention.counts_toward_quorum: invalid type: string "no", expected a boolean',
  },
  {
    mode: "macp.mode.quorum.v1",
    rules: { abstention: { interpretation: false } },
    detail: "abstention.interpretation: invalid type: boolean `false`, expected a string",
  },
];

describe("rule type-checking (#5) rejects a wrong JSON type for every knob", () => {
  it.each(knobCases)("$mode $rules", ({ mode, rules, detail }) => {
    expect(validatePolicyDefinition(definition({ mode, rules }))).toBe(shapeError(mode, detail));
  });
});

describe("rule type-checking (#5) accepts the documented value types", () => {
  it.each<{ mode: string; rules: JsonValue }>([
    { mode: DECISION, rules: { objection_handling: { veto_threshold: 0 } } },
    { mode: DECISION, rules: { objection_handling: { veto_threshold: 4294967295 } } },
    { mode: DECISION, rules: { objection_handling: { critical_objection_action: "finalize_decline" } } },
    { mode: DECISION, rules: { voting: { threshold: 2, quorum: { value: -3.5 }, weights: { a: -1, b: 0.5 } } } },
    { mode: DECISION, rules: { evaluation: { minimum_confidence: 7 } } },
    { mode: "macp.mode.proposal.v1", rules: { acceptance: { criterion: "whoever" }, counter_proposal: { max_rounds: 0 } } },
    { mode: "macp.mode.handoff.v1", rules: { acceptance: { implicit_accept_timeout_ms: 86400000 } } },
    { mode: "macp.mode.quorum.v1", rules: { threshold: { type: "percentage", value: 66.6 }, abstention: { interpretation: "x" } } },
    // A "*" policy is only checked as Decision rules: other modes' shapes are not consulted.
    { mode: "*", rules: { threshold: 5, acceptance: "x" } },
  ])("$mode $rules", ({ mode, rules }) => {
    expect(validatePolicyDefinition(definition({ mode, rules }))).toBeUndefined();
  });
});
