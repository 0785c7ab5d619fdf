import { DEFAULT_COMMITMENT_RULES, readCommitmentRules, type CommitmentRules } from "./commitment-rules.js";
import type { JsonValue } from "../policy-definition.js";
import { RulesReader, readOrDefault } from "./rules-reader.js";

/** What a triggered critical-objection veto does (schema v2 knob). */
export type CriticalObjectionAction = "deny" | "finalize_decline" | "hold";

/** The values `objection_handling.critical_objection_action` accepts, the one enum checked at registration. */
export const CRITICAL_OBJECTION_ACTIONS: readonly CriticalObjectionAction[] = Object.freeze([
  "deny",
  "finalize_decline",
  "hold",
]);

/** Decision-mode rules (§12.5), also the validation shape of `"*"` policies. */
export interface DecisionRules {
  readonly voting: {
    /** `none`, `majority`, `supermajority`, `unanimous`, `weighted`, `plurality`; others fail any vote. */
    readonly algorithm: string;
    /** Approval fraction over non-abstain votes. */
    readonly threshold: number;
    readonly quorum: {
      /** `count` / `n_of_m` (minimum distinct voters) or `percentage` (0–100 of participants). */
      readonly type: string;
      readonly value: number;
    };
    /** Weight per voter id; a voter without an entry weighs 1. */
    readonly weights: ReadonlyMap<string, number>;
  };
  readonly objectionHandling: {
    readonly criticalSeverityVetoes: boolean;
    readonly vetoThreshold: number;
    readonly criticalObjectionAction: CriticalObjectionAction;
  };
  readonly evaluation: {
    readonly requiredBeforeVoting: boolean;
    readonly minimumConfidence: number;
  };
  readonly commitment: CommitmentRules;
}

/** Defaults of the Decision rules (the rules of `policy.default`). */
export const DEFAULT_DECISION_RULES: DecisionRules = Object.freeze({
  voting: Object.freeze({
    algorithm: "none",
    threshold: 0.5,
    quorum: Object.freeze({ type: "count", value: 0 }),
    weights: new Map<string, number>(),
  }),
  objectionHandling: Object.freeze({
    criticalSeverityVetoes: false,
    vetoThreshold: 1,
    criticalObjectionAction: "deny" as const,
  }),
  evaluation: Object.freeze({ requiredBeforeVoting: false, minimumConfidence: 0 }),
  commitment: DEFAULT_COMMITMENT_RULES,
});

/** Strictly reads Decision rules (throws `RulesShapeError` with the parser detail). */
export function readDecisionRules(reader: RulesReader): DecisionRules {
  const defaults = DEFAULT_DECISION_RULES;
  const voting = reader.object("voting");
  const quorum = voting.object("quorum");
  const objections = reader.object("objection_handling");
  const evaluation = reader.object("evaluation");
  return {
    voting: {
      algorithm: voting.string("algorithm", defaults.voting.algorithm),
      threshold: voting.number("threshold", defaults.voting.threshold),
      quorum: {
        type: quorum.string("type", defaults.voting.quorum.type),
        value: quorum.number("value", defaults.voting.quorum.value),
      },
      weights: voting.numberMap("weights"),
    },
    objectionHandling: {
      criticalSeverityVetoes: objections.boolean("critical_severity_vetoes", false),
      vetoThreshold: objections.unsigned("veto_threshold", defaults.objectionHandling.vetoThreshold, 32),
      criticalObjectionAction: objections.variant(
        "critical_objection_action",
        CRITICAL_OBJECTION_ACTIONS,
        defaults.objectionHandling.criticalObjectionAction,
      ),
    },
    evaluation: {
      requiredBeforeVoting: evaluation.boolean("required_before_voting", false),
      minimumConfidence: evaluation.number("minimum_confidence", defaults.evaluation.minimumConfidence),
    },
    commitment: readCommitmentRules(reader.object("commitment")),
  };
}

/** Decision rules with defaults; rules that do not type-check fall back to defaults as a whole (§12.6). */
export function parseDecisionRules(rules: JsonValue): DecisionRules {
  return readOrDefault(rules, readDecisionRules, DEFAULT_DECISION_RULES);
}
