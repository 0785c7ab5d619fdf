import type { DecisionPolicyInput, JsonValue, PolicyDefinition } from "@macp/policy";

/** A decision-mode policy with the given rules (schema version 1 unless overridden). */
export function policyWith(rules: JsonValue, schemaVersion = 1, mode = "*"): PolicyDefinition {
  return { policyId: "policy.test", mode, description: "test", rules, schemaVersion };
}

/** Shorthand state: votes as [proposal, voter, VOTE] triples. */
export interface DecisionStateSpec {
  readonly votes?: readonly (readonly [string, string, string])[];
  readonly evaluations?: readonly (readonly [string, number])[];
  readonly objections?: readonly (readonly [string, string])[];
}

/** Builds the snake_case decision state a mode would pass. */
export function decisionState(spec: DecisionStateSpec = {}): DecisionPolicyInput {
  const votes: Record<string, Record<string, { vote: string }>> = {};
  for (const [proposal, voter, vote] of spec.votes ?? []) {
    votes[proposal] = { ...votes[proposal], [voter]: { vote } };
  }
  return {
    evaluations: (spec.evaluations ?? []).map(([recommendation, confidence]) => ({ recommendation, confidence })),
    objections: (spec.objections ?? []).map(([sender, severity]) => ({ sender, severity })),
    votes,
  };
}
