import { BUILTIN_MODE_VERSION, BUILTIN_SCHEMA_URIS, ModeId } from "@macp/protocol";
import type { ModeDescriptor } from "@macp/protocol";

function builtin(
  mode: string,
  title: string,
  description: string,
  determinismClass: string,
  participantModel: string,
  modeMessageTypes: readonly string[],
): ModeDescriptor {
  return {
    mode,
    modeVersion: BUILTIN_MODE_VERSION,
    title,
    description,
    determinismClass,
    participantModel,
    messageTypes: ["SessionStart", ...modeMessageTypes, "Commitment"],
    terminalMessageTypes: ["Commitment"],
    schemaUris: { ...BUILTIN_SCHEMA_URIS },
  };
}

/**
 * Descriptors of the six built-in modes, byte-for-byte the reference runtime's wire values
 * (modes-and-policy.md §3.1), in `ModeId` order: the five standards-track modes, then
 * `ext.multi_round.v1`. Each call returns fresh objects, so callers may keep or freeze them.
 */
export function builtinModeDescriptors(): ModeDescriptor[] {
  return [
    builtin(
      ModeId.Decision,
      "Decision Mode",
      "Structured decision making with proposals, evaluations, objections, votes, and a terminal Commitment.",
      "semantic-deterministic",
      "declared",
      ["Proposal", "Evaluation", "Objection", "Vote"],
    ),
    builtin(
      ModeId.Proposal,
      "Proposal Mode",
      "Negotiation with proposals, counterproposals, accepts, rejects, withdrawals, and a terminal Commitment.",
      "semantic-deterministic",
      "peer",
      ["Proposal", "CounterProposal", "Accept", "Reject", "Withdraw"],
    ),
    builtin(
      ModeId.Task,
      "Task Mode",
      "One bounded delegated task with assignee responses, progress, completion/failure reports, and a terminal Commitment.",
      "structural-only",
      "orchestrated",
      ["TaskRequest", "TaskAccept", "TaskReject", "TaskUpdate", "TaskComplete", "TaskFail"],
    ),
    builtin(
      ModeId.Handoff,
      "Handoff Mode",
      "Scoped responsibility transfer with handoff offers, context, target responses, and a terminal Commitment.",
      "context-frozen",
      "delegated",
      ["HandoffOffer", "HandoffContext", "HandoffAccept", "HandoffDecline"],
    ),
    builtin(
      ModeId.Quorum,
      "Quorum Mode",
      "Threshold approval with one approval request, participant ballots, and a terminal Commitment.",
      "semantic-deterministic",
      "quorum",
      ["ApprovalRequest", "Approve", "Reject", "Abstain"],
    ),
    builtin(
      ModeId.MultiRound,
      "Multi-Round Mode",
      "Iterative convergence through multiple contribution rounds until all participants agree, with a terminal Commitment.",
      "semantic-deterministic",
      "peer",
      ["Contribute"],
    ),
  ];
}
