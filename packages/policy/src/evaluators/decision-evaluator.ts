import { parseDecisionRules, type DecisionRules } from "../rules/decision-rules.js";
import type { DecisionPolicyInput } from "./mode-state-inputs.js";
import { isQuorumMet } from "./participation-quorum.js";
import type { PolicyDefinition } from "../policy-definition.js";
import { NO_POLICY_VERDICT, verdictOf, versionGate, type PolicyVerdict } from "./policy-verdict.js";
import { formatRustDisplay, formatRustFixed } from "../json/rust-number-format.js";
import { decisionTallyOf, type DecisionTally } from "./decision-tally.js";
import { votingResult } from "./vote-tally.js";

/** Gate (1): qualifying (non-REVIEW) evaluations, applied to both outcomes. */
function evaluationGate(rules: DecisionRules["evaluation"], tally: DecisionTally): string[] {
  if (!rules.requiredBeforeVoting) return [];
  if (rules.minimumConfidence > 0) {
    if (tally.maxQualifyingConfidence >= rules.minimumConfidence) return [];
    return [
      `no qualifying evaluation meets minimum confidence threshold: ${formatRustFixed(rules.minimumConfidence, 2)}`,
    ];
  }
  if (tally.qualifyingEvaluations > 0) return [];
  return ["evaluations required before voting but none provided (REVIEW evaluations are informational only)"];
}

/** Gate (2): the critical-objection veto; `finalize_decline` stops only positive commitments. */
function vetoGate(rules: DecisionRules["objectionHandling"], tally: DecisionTally, positive: boolean): string[] {
  if (!rules.criticalSeverityVetoes) return [];
  if (tally.criticalObjections < rules.vetoThreshold) return [];
  if (rules.criticalObjectionAction === "finalize_decline" && !positive) return [];
  const blockers = tally.criticalObjectors();
  const detail = `${blockers.length} blocking objection(s) (veto threshold: ${rules.vetoThreshold}), from: ${blockers.join(", ")}`;
  switch (rules.criticalObjectionAction) {
    case "deny":
      return [`blocked by ${detail}`];
    case "hold":
      return [`held for escalation by ${detail} (critical_objection_action=hold)`];
    case "finalize_decline":
      return positive
        ? [`veto blocks a positive commitment: ${detail} (critical_objection_action=finalize_decline)`]
        : [];
  }
}

/** Gate (3): the participation quorum, when `commitment.require_vote_quorum` is set. */
function quorumGate(rules: DecisionRules, tally: DecisionTally, participantCount: number): string[] {
  if (!rules.commitment.requireVoteQuorum) return [];
  const { type, value } = rules.voting.quorum;
  if (isQuorumMet(type, value, tally.distinctVoters, participantCount)) return [];
  return [
    `vote quorum not met: ${tally.distinctVoters} voters of ${participantCount} participants (quorum: ${formatRustDisplay(value)} ${type})`,
  ];
}

/** Step (4): the vote result mapped to the requested outcome (outcome table of §12.9). */
function outcomeGate(
  rules: DecisionRules,
  tally: DecisionTally,
  participants: readonly string[],
  positive: boolean,
): string[] {
  if (rules.voting.algorithm === "none") return [];
  const result = votingResult(rules.voting, tally, participants);
  switch (result.kind) {
    case "Passed":
      if (positive || rules.commitment.allowDeclineOverApproval) return [];
      return [
        `vote passed the approval threshold but a decline was requested; set commitment.allow_decline_over_approval to permit an executive override (${result.reason})`,
      ];
    case "Failed":
      if (positive) return [result.reason];
      if (tally.reject > 0) return [];
      return [
        `approval threshold not met but no explicit reject to justify a decline (incomplete participation is not a rejection): ${result.reason}`,
      ];
    case "NoVotes":
      if (!positive) return ["no votes cast; a decline requires at least one explicit reject vote"];
      return rules.commitment.requireVoteQuorum ? ["no votes cast"] : [];
  }
}

/**
 * Outcome-aware Decision evaluation (§12.9): version gate, then the evaluation gate, the
 * critical-objection veto, the participation quorum and the vote result mapped to
 * `outcomePositive`, with deny reasons in that order. Votes are aggregated over all proposals.
 * With no policy bound (replay only) nothing is evaluated. Reads the state once to count it; a
 * mode that keeps the counts calls {@link evaluateDecisionTally}.
 */
export function evaluateDecision(
  policy: PolicyDefinition | null,
  state: DecisionPolicyInput,
  participants: readonly string[],
  outcomePositive: boolean,
): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  return evaluateDecisionTally(policy, decisionTallyOf(state), participants, outcomePositive);
}

/**
 * {@link evaluateDecision} from counts kept by the mode: the same verdict for the same state, at a
 * cost that does not grow with the number of votes (except weighted voting whose weights sum
 * differently in different orders, which walks the votes in the reference's order).
 */
export function evaluateDecisionTally(
  policy: PolicyDefinition | null,
  tally: DecisionTally,
  participants: readonly string[],
  outcomePositive: boolean,
): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const rules = parseDecisionRules(policy.rules);
  return verdictOf([
    ...evaluationGate(rules.evaluation, tally),
    ...vetoGate(rules.objectionHandling, tally, outcomePositive),
    ...quorumGate(rules, tally, participants.length),
    ...outcomeGate(rules, tally, participants, outcomePositive),
  ]);
}
