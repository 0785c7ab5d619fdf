import type { JsonValue } from "../policy-definition.js";
import { RulesReader, isJsonObject, readOrDefault } from "./rules-reader.js";

/** The `commitment` rules shared by every standard mode's rule schema (§12.5). */
export interface CommitmentRules {
  /** `initiator_only` (default), `any_participant` or `designated_role`; anything else acts as initiator-only. */
  readonly authority: string;
  /** Sender ids allowed to commit under `designated_role`. */
  readonly designatedRoles: readonly string[];
  /** Decision: enforce `voting.quorum`, and deny a positive commit with no votes. */
  readonly requireVoteQuorum: boolean;
  /** Decision (v2): allow a negative commit although the vote passed. */
  readonly allowDeclineOverApproval: boolean;
}

/** Defaults of the `commitment` rules. */
export const DEFAULT_COMMITMENT_RULES: CommitmentRules = Object.freeze({
  authority: "initiator_only",
  designatedRoles: Object.freeze([]),
  requireVoteQuorum: false,
  allowDeclineOverApproval: false,
});

/** Strictly reads a `commitment` object (throws `RulesShapeError`). */
export function readCommitmentRules(reader: RulesReader): CommitmentRules {
  return {
    authority: reader.string("authority", DEFAULT_COMMITMENT_RULES.authority),
    designatedRoles: reader.stringArray("designated_roles"),
    requireVoteQuorum: reader.boolean("require_vote_quorum", false),
    allowDeclineOverApproval: reader.boolean("allow_decline_over_approval", false),
  };
}

/**
 * The `commitment` sub-object of any mode's rules, parsed on its own: when it is absent or does
 * not type-check, the defaults apply (§2.2, §12.6).
 */
export function parseCommitmentRules(rules: JsonValue): CommitmentRules {
  if (!isJsonObject(rules)) return DEFAULT_COMMITMENT_RULES;
  const commitment = Object.hasOwn(rules, "commitment") ? rules["commitment"] : undefined;
  if (commitment === undefined) return DEFAULT_COMMITMENT_RULES;
  return readOrDefault(commitment, readCommitmentRules, DEFAULT_COMMITMENT_RULES);
}
