/**
 * Governance policy: descriptor conversion, registration checks, the {@link PolicyRegistry} and the
 * pure commit-time evaluators.
 *
 * @module @macp/policy
 */
export type { JsonValue, PolicyDefinition } from "./policy-definition.js";
export type { PolicyVerdict } from "./evaluators/policy-verdict.js";
export { SUPPORTED_SCHEMA_VERSIONS } from "./evaluators/policy-verdict.js";
export type { CommitmentRules } from "./rules/commitment-rules.js";
export { DEFAULT_COMMITMENT_RULES, parseCommitmentRules } from "./rules/commitment-rules.js";
export type { CriticalObjectionAction, DecisionRules } from "./rules/decision-rules.js";
export { CRITICAL_OBJECTION_ACTIONS, DEFAULT_DECISION_RULES, parseDecisionRules } from "./rules/decision-rules.js";
export type { ProposalRules } from "./rules/proposal-rules.js";
export { DEFAULT_PROPOSAL_RULES, parseProposalRules } from "./rules/proposal-rules.js";
export type { TaskRules } from "./rules/task-rules.js";
export { DEFAULT_TASK_RULES, parseTaskRules } from "./rules/task-rules.js";
export type { HandoffRules } from "./rules/handoff-rules.js";
export { DEFAULT_HANDOFF_RULES, parseHandoffRules } from "./rules/handoff-rules.js";
export type { QuorumRules } from "./rules/quorum-rules.js";
export { DEFAULT_QUORUM_RULES, parseQuorumRules } from "./rules/quorum-rules.js";
export { isCommitmentAuthorized } from "./evaluators/commitment-authority.js";
export type {
  DecisionPolicyInput,
  HandoffPolicyInput,
  ProposalPolicyInput,
  QuorumBallotCounts,
  QuorumPolicyInput,
  TaskPolicyInput,
} from "./evaluators/mode-state-inputs.js";
export type { DecisionTally, VoterVotes } from "./evaluators/decision-tally.js";
export { decisionTallyOf, isQualifyingEvaluation, maxConfidence } from "./evaluators/decision-tally.js";
export { evaluateDecision, evaluateDecisionTally } from "./evaluators/decision-evaluator.js";
export {
  evaluateHandoff,
  evaluateProposal,
  evaluateProposalCount,
  evaluateQuorum,
  evaluateQuorumCounts,
  evaluateTask,
} from "./evaluators/mode-evaluators.js";
export { DEFAULT_POLICY } from "./default-policy.js";
export { policyFromDescriptor, policyToDescriptor } from "./descriptor-conversion.js";
export { validatePolicyDefinition } from "./policy-validation.js";
export type { RegistryResult, RestoreRejection } from "./policy-registry.js";
export { PolicyRegistry } from "./policy-registry.js";
