import type {
  HandoffPolicyInput,
  ProposalPolicyInput,
  QuorumBallotCounts,
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
  const counterCount = Object.values(state.proposals).filter(
    (proposal) => proposal.supersedes_proposal_id !== null && proposal.supersedes_proposal_id !== undefined,
  ).length;
  return evaluateProposalCount(policy, counterCount);
}

/**
 * {@link evaluateProposal} from the number of CounterProposals ever made (withdrawn included),
 * for a mode that keeps that count instead of scanning its proposals.
 */
export function evaluateProposalCount(policy: PolicyDefinition | null, counterCount: number): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const maxRounds = parseProposalRules(policy.rules).counterProposalMaxRounds;
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
  const counts = { approve: 0, reject: 0, abstain: 0 };
  for (const { choice } of Object.values(state.ballots)) {
    if (choice === "Approve") counts.approve += 1;
    else if (choice === "Reject") counts.reject += 1;
    else if (choice === "Abstain") counts.abstain += 1;
  }
  return evaluateQuorumCounts(policy, counts, participants);
}

/**
 * {@link evaluateQuorum} from ballot counts by choice, for a mode that keeps them instead of
 * reading every ballot at commit time.
 */
export function evaluateQuorumCounts(
  policy: PolicyDefinition | null,
  counts: QuorumBallotCounts,
  participants: readonly string[],
): PolicyVerdict {
  if (policy === null) return NO_POLICY_VERDICT;
  const gated = versionGate(policy);
  if (gated !== undefined) return gated;
  const rules = parseQuorumRules(policy.rules);
  const effectiveVoters = counts.approve + counts.reject + (rules.abstention.countsTowardQuorum ? counts.abstain : 0);
  const { type, value } = rules.threshold;
  const n = participants.length;
  if (value > 0 && !isQuorumMet(type, value, effectiveVoters, n)) {
    return verdictOf([
      `quorum not met: ${effectiveVoters} effective voters of ${n} participants (threshold: ${formatRustDisplay(value)} ${type})`,
    ]);
  }
  return verdictOf([]);
}
