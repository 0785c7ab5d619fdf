import { DEFAULT_COMMITMENT_RULES, readCommitmentRules, type CommitmentRules } from "./commitment-rules.js";
import type { JsonValue } from "../policy-definition.js";
import { RulesReader, readOrDefault } from "./rules-reader.js";

/** Task-mode rules (§12.5). */
export interface TaskRules {
  /** Permits TaskAccept after any TaskReject and lets the active assignee un-assign by TaskReject. */
  readonly allowReassignmentOnReject: boolean;
  /** Commitment requires a TaskComplete with non-empty output. */
  readonly requireOutput: boolean;
  readonly commitment: CommitmentRules;
}

/** Defaults of the Task rules. */
export const DEFAULT_TASK_RULES: TaskRules = Object.freeze({
  allowReassignmentOnReject: false,
  requireOutput: false,
  commitment: DEFAULT_COMMITMENT_RULES,
});

/** Strictly reads Task rules (throws `RulesShapeError`). */
export function readTaskRules(reader: RulesReader): TaskRules {
  return {
    allowReassignmentOnReject: reader.object("assignment").boolean("allow_reassignment_on_reject", false),
    requireOutput: reader.object("completion").boolean("require_output", false),
    commitment: readCommitmentRules(reader.object("commitment")),
  };
}

/** Task rules with defaults; rules that do not type-check fall back to defaults as a whole (§12.6). */
export function parseTaskRules(rules: JsonValue): TaskRules {
  return readOrDefault(rules, readTaskRules, DEFAULT_TASK_RULES);
}
