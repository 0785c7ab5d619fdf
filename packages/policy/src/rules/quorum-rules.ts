import { DEFAULT_COMMITMENT_RULES, readCommitmentRules, type CommitmentRules } from "./commitment-rules.js";
import type { JsonValue } from "../policy-definition.js";
import { RulesReader, readOrDefault } from "./rules-reader.js";

/** Quorum-mode rules (§12.5). */
export interface QuorumRules {
  readonly threshold: {
    /** `percentage` (0–100 of participants); every other string is an absolute count. */
    readonly type: string;
    /** > 0 replaces `required_approvals` for readiness and adds a participation check at commit. */
    readonly value: number;
  };
  readonly abstention: {
    /** Abstentions count as participation in the commit-time check. */
    readonly countsTowardQuorum: boolean;
    /** Informational only: never changes allow/deny. */
    readonly interpretation: string;
  };
  readonly commitment: CommitmentRules;
}

/** Defaults of the Quorum rules. */
export const DEFAULT_QUORUM_RULES: QuorumRules = Object.freeze({
  threshold: Object.freeze({ type: "n_of_m", value: 0 }),
  abstention: Object.freeze({ countsTowardQuorum: false, interpretation: "neutral" }),
  commitment: DEFAULT_COMMITMENT_RULES,
});

/** Strictly reads Quorum rules (throws `RulesShapeError`). */
export function readQuorumRules(reader: RulesReader): QuorumRules {
  const threshold = reader.object("threshold");
  const abstention = reader.object("abstention");
  return {
    threshold: {
      type: threshold.string("type", DEFAULT_QUORUM_RULES.threshold.type),
      value: threshold.number("value", 0),
    },
    abstention: {
      countsTowardQuorum: abstention.boolean("counts_toward_quorum", false),
      interpretation: abstention.string("interpretation", DEFAULT_QUORUM_RULES.abstention.interpretation),
    },
    commitment: readCommitmentRules(reader.object("commitment")),
  };
}

/** Quorum rules with defaults; rules that do not type-check fall back to defaults as a whole (§12.6). */
export function parseQuorumRules(rules: JsonValue): QuorumRules {
  return readOrDefault(rules, readQuorumRules, DEFAULT_QUORUM_RULES);
}
