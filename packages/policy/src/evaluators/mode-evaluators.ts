import type {
  HandoffPolicyInput,
  ProposalPolicyInput,
  QuorumPolicyInput,
  TaskPolicyInput,
} from "./mode-state-inputs.js";
import { isQuorumMet } from "./participation-quorum.js";
import type { PolicyDefinition } from "../policy-definition.js";
import { NO_POLICY_VERDICT, verdictOf, versionGate, type PolicyVerdict } from "./policy-verdict.js";
import { parseProposalRules } from "../rules/proposal-rules.js";
import { parseQuorumRules } from "../rules/quorum-rules.js";
import { formatRustDisplay } from "../json/rust-number-format.js";
import { parseTaskRules } from "../rules/task-rules.js";

/**
 * Proposal commit-time evaluation (§12.10): version gate, then `counter_proposal.max_rounds`
 * against every CounterProposal ever made (withdrawn included). The mode already refuses the
 * CounterProposal that would exceed the limit, so the limit check cannot fire through it.
 */
export function evaluateProposal(policy: PolicyDefinition | null, state: ProposalPolicyInput): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const maxRounds = parseProposalRules(policy.rules).counterProposalMaxRounds;
  const counterCount = Object.values(state.proposals).filter(
    (proposal) => proposal.supersedes_proposal_id !== null && proposal.supersedes_proposal_id !== undefined,
  ).length;
  if (maxRounds > 0 && counterCount > maxRounds) {
    return verdictOf([`counter-proposal limit exceeded: ${counterCount} of ${maxRounds} allowed`]);
  }
  return verdictOf([]);
}

/**
 * Task commit-time evaluation (§12.10): version gate, then `completion.require_output`, which
 * needs a `Complete` report with non-empty output (so it also blocks committing after TaskFail).
 */
export function evaluateTask(policy: PolicyDefinition | null, state: TaskPolicyInput): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const hasOutput = (state.terminal_report?.Complete?.output.length ?? 0) > 0;
  if (parseTaskRules(policy.rules).requireOutput && !hasOutput) {
    return verdictOf(["policy requires task output before commitment"]);
  }
  return verdictOf([]);
}

/**
 * Handoff commit-time evaluation (§12.10): only the version gate. The Handoff rule (implicit
 * accept) acts inside the mode's Commitment readiness, before this runs; `state` is taken so all
 * evaluators share one shape.
 */
export function evaluateHandoff(policy: PolicyDefinition | null, _state: HandoffPolicyInput): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  return versionGate(policy) ?? verdictOf([]);
}

/**
 * Quorum commit-time evaluation (§12.10): version gate, then, when `threshold.value > 0`, a
 * participation minimum over approve + reject (+ abstain when `counts_toward_quorum`) ballots.
 * It ignores the Commitment's polarity, so a negative outcome needs enough participation too.
 */
export function evaluateQuorum(
  policy: PolicyDefinition | null,
  state: QuorumPolicyInput,
  participants: readonly string[],
): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const rules = parseQuorumRules(policy.rules);
  const choices = Object.values(state.ballots).map((ballot) => ballot.choice);
  const count = (choice: string): number => choices.filter((c) => c === choice).length;
  const effectiveVoters =
    count("Approve") + count("Reject") + (rules.abstention.countsTowardQuorum ? count("Abstain") : 0);
  const { type, value } = rules.threshold;
  const n = participants.length;
  if (value > 0 && !isQuorumMet(type, value, effectiveVoters, n)) {
    return verdictOf([
      `quorum not met: ${effectiveVoters} effective voters of ${n} participants (threshold: ${formatRustDisplay(value)} ${type})`,
    ]);
  }
  return verdictOf([]);
}
