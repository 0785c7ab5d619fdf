import { DEFAULT_COMMITMENT_RULES, readCommitmentRules, type CommitmentRules } from "./commitment-rules.js";
import type { JsonValue } from "../policy-definition.js";
import { RulesReader, readOrDefault } from "./rules-reader.js";

/** Handoff-mode rules (§12.5). */
export interface HandoffRules {
  /**
   * 0 = off; otherwise an offer still pending when a Commitment arrives at least this many
   * milliseconds (by envelope timestamps) after the offer counts as accepted (§8.3).
   */
  readonly implicitAcceptTimeoutMs: number;
  readonly commitment: CommitmentRules;
}

/** Defaults of the Handoff rules. */
export const DEFAULT_HANDOFF_RULES: HandoffRules = Object.freeze({
  implicitAcceptTimeoutMs: 0,
  commitment: DEFAULT_COMMITMENT_RULES,
});

/** Strictly reads Handoff rules (throws `RulesShapeError`). */
export function readHandoffRules(reader: RulesReader): HandoffRules {
  return {
    implicitAcceptTimeoutMs: reader.object("acceptance").unsigned("implicit_accept_timeout_ms", 0, 64),
    commitment: readCommitmentRules(reader.object("commitment")),
  };
}

/** Handoff rules with defaults; rules that do not type-check fall back to defaults as a whole (§12.6). */
export function parseHandoffRules(rules: JsonValue): HandoffRules {
  return readOrDefault(rules, readHandoffRules, DEFAULT_HANDOFF_RULES);
}
