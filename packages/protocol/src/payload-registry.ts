import { CoreMessageType, ModeId } from "./constants.js";
import {
  CommitmentPayload,
  ProgressPayload,
  SessionCancelPayload,
  SessionResumePayload,
  SessionStartPayload,
  SessionSuspendPayload,
  SignalPayload,
} from "./gen/macp/v1/core.js";
import * as decision from "./gen/macp/modes/decision/v1/decision.js";
import * as handoff from "./gen/macp/modes/handoff/v1/handoff.js";
import * as multiRound from "./gen/macp/modes/multi_round/v1/multi_round.js";
import * as proposal from "./gen/macp/modes/proposal/v1/proposal.js";
import * as quorum from "./gen/macp/modes/quorum/v1/quorum.js";
import * as task from "./gen/macp/modes/task/v1/task.js";
import {
  corePayloadSchemas as core,
  decisionPayloadSchemas,
  handoffPayloadSchemas,
  multiRoundPayloadSchemas,
  proposalPayloadSchemas,
  quorumPayloadSchemas,
  taskPayloadSchemas,
} from "./message-schemas.js";
import type { MessageCodec } from "./strict-decode.js";
import type { MessageSchema } from "./wire-schema.js";

/**
 * How one (mode, message_type) payload is carried. `json-or-protobuf` is multi_round's
 * `Contribute` (README decision 6); every other payload is plain protobuf.
 */
export interface PayloadBinding {
  readonly schema: MessageSchema;
  readonly codec: MessageCodec<unknown>;
  readonly encoding: "protobuf" | "json-or-protobuf";
}

function protobuf<T>(schema: MessageSchema, codec: MessageCodec<T>): PayloadBinding {
  return { schema, codec: codec as MessageCodec<unknown>, encoding: "protobuf" };
}

const CORE_PAYLOADS = new Map<string, PayloadBinding>([
  [CoreMessageType.SessionStart, protobuf(core.SessionStartPayload, SessionStartPayload)],
  [CoreMessageType.Commitment, protobuf(core.CommitmentPayload, CommitmentPayload)],
  [CoreMessageType.Signal, protobuf(core.SignalPayload, SignalPayload)],
  [CoreMessageType.Progress, protobuf(core.ProgressPayload, ProgressPayload)],
  [CoreMessageType.SessionCancel, protobuf(core.SessionCancelPayload, SessionCancelPayload)],
  [CoreMessageType.SessionSuspend, protobuf(core.SessionSuspendPayload, SessionSuspendPayload)],
  [CoreMessageType.SessionResume, protobuf(core.SessionResumePayload, SessionResumePayload)],
]);

const MODE_PAYLOADS = new Map<string, ReadonlyMap<string, PayloadBinding>>([
  [
    ModeId.Decision,
    new Map([
      ["Proposal", protobuf(decisionPayloadSchemas.ProposalPayload, decision.ProposalPayload)],
      ["Evaluation", protobuf(decisionPayloadSchemas.EvaluationPayload, decision.EvaluationPayload)],
      ["Objection", protobuf(decisionPayloadSchemas.ObjectionPayload, decision.ObjectionPayload)],
      ["Vote", protobuf(decisionPayloadSchemas.VotePayload, decision.VotePayload)],
    ]),
  ],
  [
    ModeId.Proposal,
    new Map([
      ["Proposal", protobuf(proposalPayloadSchemas.ProposalPayload, proposal.ProposalPayload)],
      ["CounterProposal", protobuf(proposalPayloadSchemas.CounterProposalPayload, proposal.CounterProposalPayload)],
      ["Accept", protobuf(proposalPayloadSchemas.AcceptPayload, proposal.AcceptPayload)],
      ["Reject", protobuf(proposalPayloadSchemas.RejectPayload, proposal.RejectPayload)],
      ["Withdraw", protobuf(proposalPayloadSchemas.WithdrawPayload, proposal.WithdrawPayload)],
    ]),
  ],
  [
    ModeId.Task,
    new Map([
      ["TaskRequest", protobuf(taskPayloadSchemas.TaskRequestPayload, task.TaskRequestPayload)],
      ["TaskAccept", protobuf(taskPayloadSchemas.TaskAcceptPayload, task.TaskAcceptPayload)],
      ["TaskReject", protobuf(taskPayloadSchemas.TaskRejectPayload, task.TaskRejectPayload)],
      ["TaskUpdate", protobuf(taskPayloadSchemas.TaskUpdatePayload, task.TaskUpdatePayload)],
      ["TaskComplete", protobuf(taskPayloadSchemas.TaskCompletePayload, task.TaskCompletePayload)],
      ["TaskFail", protobuf(taskPayloadSchemas.TaskFailPayload, task.TaskFailPayload)],
    ]),
  ],
  [
    ModeId.Handoff,
    new Map([
      ["HandoffOffer", protobuf(handoffPayloadSchemas.HandoffOfferPayload, handoff.HandoffOfferPayload)],
      ["HandoffContext", protobuf(handoffPayloadSchemas.HandoffContextPayload, handoff.HandoffContextPayload)],
      ["HandoffAccept", protobuf(handoffPayloadSchemas.HandoffAcceptPayload, handoff.HandoffAcceptPayload)],
      ["HandoffDecline", protobuf(handoffPayloadSchemas.HandoffDeclinePayload, handoff.HandoffDeclinePayload)],
    ]),
  ],
  [
    ModeId.Quorum,
    new Map([
      ["ApprovalRequest", protobuf(quorumPayloadSchemas.ApprovalRequestPayload, quorum.ApprovalRequestPayload)],
      ["Approve", protobuf(quorumPayloadSchemas.ApprovePayload, quorum.ApprovePayload)],
      ["Reject", protobuf(quorumPayloadSchemas.RejectPayload, quorum.RejectPayload)],
      ["Abstain", protobuf(quorumPayloadSchemas.AbstainPayload, quorum.AbstainPayload)],
    ]),
  ],
  [
    ModeId.MultiRound,
    new Map([
      [
        "Contribute",
        {
          schema: multiRoundPayloadSchemas.ContributePayload,
          codec: multiRound.ContributePayload as MessageCodec<unknown>,
          encoding: "json-or-protobuf",
        },
      ],
    ]),
  ],
]);

/**
 * The payload binding of `messageType` in `mode`: the mode's own table first, then the core
 * types, which are valid in every mode (including unregistered or empty ones, e.g. ambient
 * Signals).
 */
export function payloadBinding(mode: string, messageType: string): PayloadBinding | undefined {
  return MODE_PAYLOADS.get(mode)?.get(messageType) ?? CORE_PAYLOADS.get(messageType);
}
