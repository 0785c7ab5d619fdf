import { DEFAULT_POLICY_ID, ModeId, isBlank } from "@macp/protocol";
import { parseCommitmentRules } from "./rules/commitment-rules.js";
import { readDecisionRules, type DecisionRules } from "./rules/decision-rules.js";
import { readHandoffRules } from "./rules/handoff-rules.js";
import type { JsonValue, PolicyDefinition } from "./policy-definition.js";
import { readProposalRules } from "./rules/proposal-rules.js";
import { readQuorumRules } from "./rules/quorum-rules.js";
import { RulesReader, RulesShapeError, isJsonObject } from "./rules/rules-reader.js";
import { readTaskRules } from "./rules/task-rules.js";

type ShapeResult<T> = { readonly rules: T } | { readonly error: string };

/** Type-checks `rules` with `read`, turning a shape failure into the #5 error text. */
function checkShape<T>(mode: string, rules: JsonValue, read: (reader: RulesReader) => T): ShapeResult<T> {
  try {
    return { rules: read(RulesReader.root(rules)) };
  } catch (error) {
    if (error instanceof RulesShapeError) {
      return { error: `rules do not match schema for mode '${mode}': ${error.message}` };
    }
    throw error;
  }
}

/** Checks #5–#7 for Decision-shaped policies (`macp.mode.decision.v1` and `"*"`). */
function decisionError(def: PolicyDefinition): string | undefined {
  const shape = checkShape<DecisionRules>(def.mode, def.rules, readDecisionRules);
  if ("error" in shape) return shape.error;
  const { algorithm, weights, threshold } = shape.rules.voting;
  if (algorithm === "weighted" && weights.size === 0) {
    return "voting.algorithm 'weighted' requires non-empty voting.weights";
  }
  if (algorithm === "supermajority" && threshold <= 0.5) {
    return "voting.algorithm 'supermajority' requires voting.threshold > 0.5";
  }
  return undefined;
}

/** Rule shapes of the other standard modes (#5); any other mode string skips the check. */
const OTHER_MODE_SHAPES: ReadonlyMap<string, (reader: RulesReader) => unknown> = new Map<
  string,
  (reader: RulesReader) => unknown
>([
  [ModeId.Proposal, readProposalRules],
  [ModeId.Task, readTaskRules],
  [ModeId.Handoff, readHandoffRules],
  [ModeId.Quorum, readQuorumRules],
]);

function modeShapeError(def: PolicyDefinition): string | undefined {
  if (def.mode === "*" || def.mode === ModeId.Decision) return decisionError(def);
  const read = OTHER_MODE_SHAPES.get(def.mode);
  if (read === undefined) return undefined;
  const shape = checkShape(def.mode, def.rules, read);
  return "error" in shape ? shape.error : undefined;
}

/**
 * Registration validation (§12.3 checks #1–#8, in order): the `error` text of the first failed
 * check, or undefined when the definition is acceptable. The duplicate-id check (#9) belongs to the
 * registry.
 */
export function validatePolicyDefinition(def: PolicyDefinition): string | undefined {
  if (isBlank(def.policyId)) return "policy_id must not be empty";
  if (def.policyId === DEFAULT_POLICY_ID) return `cannot register with reserved policy_id '${DEFAULT_POLICY_ID}'`;
  if (def.schemaVersion === 0) return "schema_version must be > 0";
  if (!isJsonObject(def.rules)) return "rules must be a JSON object";
  const shapeError = modeShapeError(def);
  if (shapeError !== undefined) return shapeError;
  const commitment = parseCommitmentRules(def.rules);
  if (commitment.authority === "designated_role" && commitment.designatedRoles.length === 0) {
    return "commitment.authority 'designated_role' requires non-empty commitment.designated_roles";
  }
  return undefined;
}
