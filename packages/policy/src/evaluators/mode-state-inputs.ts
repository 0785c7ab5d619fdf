/**
 * The parts of each mode's state (modes-and-policy.md §5.1–§9.1) the evaluators read, with the
 * state's own snake_case keys so a mode passes its state object unchanged.
 */

/** Decision state (§5.1): evaluations, objections and votes of all proposals. */
export interface DecisionPolicyInput {
  readonly evaluations: readonly { readonly recommendation: string; readonly confidence: number }[];
  readonly objections: readonly { readonly severity: string; readonly sender: string }[];
  /** `votes[proposal_id][sender].vote`, upper-case. */
  readonly votes: {
    readonly [proposalId: string]: { readonly [sender: string]: { readonly vote: string } };
  };
}

/** Proposal state (§6.1): every proposal ever made, withdrawn ones included. */
export interface ProposalPolicyInput {
  readonly proposals: {
    readonly [proposalId: string]: { readonly supersedes_proposal_id: string | null };
  };
}

/** Task state (§7.1): the externally tagged terminal report, if any. */
export interface TaskPolicyInput {
  readonly terminal_report: {
    readonly Complete?: { readonly output: ArrayLike<number> };
    readonly Fail?: unknown;
  } | null;
}

/** Handoff state (§8.1); the commit-time evaluator reads nothing from it (§12.10). */
export interface HandoffPolicyInput {
  readonly offers: { readonly [handoffId: string]: unknown };
}

/** Quorum state (§9.1): one ballot per sender. */
export interface QuorumPolicyInput {
  readonly ballots: { readonly [sender: string]: { readonly choice: string } };
}

/** Quorum ballots counted by choice. */
export interface QuorumBallotCounts {
  readonly approve: number;
  readonly reject: number;
  readonly abstain: number;
}
