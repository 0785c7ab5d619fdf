import { DEFAULT_POLICY_ID } from "@macp/protocol";
import { parseJsonText } from "./json/json-text.js";
import type { JsonValue, PolicyDefinition } from "./policy-definition.js";

/**
 * The default policy's rules exactly as the reference returns them (§12.2): every Decision knob at
 * its default. Parsed from text so `minimum_confidence` keeps its float form and re-serializes as
 * `0.0`, byte-identical to the reference.
 */
const DEFAULT_RULES_TEXT =
  '{"commitment":{"authority":"initiator_only","designated_roles":[],"require_vote_quorum":false},' +
  '"evaluation":{"minimum_confidence":0.0,"required_before_voting":false},' +
  '"objection_handling":{"critical_severity_vetoes":false,"veto_threshold":1},' +
  '"voting":{"algorithm":"none","quorum":{"type":"count","value":0}}}';

function defaultRules(): JsonValue {
  const rules = parseJsonText(DEFAULT_RULES_TEXT);
  if (rules === undefined) throw new Error("default policy rules are not valid JSON");
  return rules;
}

/**
 * `policy.default` (§12.2): pre-registered, reserved, applies to every mode (`"*"`), and imposes
 * nothing beyond each mode's built-in rules. Deeply frozen.
 */
export const DEFAULT_POLICY: PolicyDefinition = Object.freeze({
  policyId: DEFAULT_POLICY_ID,
  mode: "*",
  description: "Default policy \u2014 mode built-in rules apply with no additional governance constraints",
  rules: defaultRules(),
  schemaVersion: 1,
});
