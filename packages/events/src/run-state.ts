import type { CanonicalEventType, EventSubject } from "./event-types.js";
import type { JsonValue } from "./json.js";

/** Run statuses (§1.6, with [B]'s `suspended`). */
export type RunStatus =
  | "queued"
  | "starting"
  | "binding_session"
  | "running"
  | "suspended"
  | "completed"
  | "failed"
  | "cancelled";

/** Terminal run statuses. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** The `run` block. */
export interface RunBlock {
  readonly runId: string;
  readonly status: RunStatus;
  readonly runtimeSessionId?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly traceId?: string;
  readonly modeName?: string;
  readonly contextId?: string;
  readonly extensionKeys?: readonly string[];
  /** Last `session.state.changed` state, e.g. `SESSION_STATE_OPEN`. */
  readonly sessionState?: string;
  /** The `error` of `run.failed`. */
  readonly error?: string;
}

/** Participant statuses (with [B]'s `skipped` for participants that never spoke). */
export type ParticipantStatus = "idle" | "active" | "waiting" | "completed" | "failed" | "skipped";

/** One participant of the run. */
export interface ParticipantState {
  readonly participantId: string;
  readonly role?: string;
  readonly status: ParticipantStatus;
  readonly latestActivityAt?: string;
  /** Message type of the participant's latest message. */
  readonly latestSummary?: string;
  /** Messages this participant sent (accepted by the runtime or sent through the control plane). */
  readonly messageCount: number;
  /** Seq of the participant's latest message; picks the last-active participant on failure. */
  readonly lastActivitySeq?: number;
}

/** Kinds of graph node: participants plus the synthetic flow nodes `__start` … `__outcome`. */
export type GraphNodeKind = "participant" | "start" | "proposal" | "decision" | "outcome";

/** One graph node; `status` only ever moves forward. */
export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly status: ParticipantStatus;
}

/** One directed, deduplicated graph edge (first occurrence's `ts`). */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly ts: string;
}

/** Ballot of one contribution towards a proposal or request. */
export type Vote = "allow" | "deny";

/** One proposal-side contribution (proposal, evaluation, vote, …) as shown in the decision panel. */
export interface DecisionContribution {
  readonly participantId: string;
  /** Proposal/request id the contribution is about. */
  readonly action: string;
  readonly confidence?: number;
  readonly reasons: readonly string[];
  readonly ts: string;
  readonly vote?: Vote;
  readonly messageType?: string;
}

/** The current decision. Once `finalized`, later contributions never un-finalize it (G-6). */
export interface DecisionState {
  readonly action: string;
  readonly confidence?: number;
  readonly reasons: readonly string[];
  readonly finalized: boolean;
  readonly proposalId?: string;
  readonly outcomePositive: boolean | null;
  readonly prompt?: string;
  readonly proposals: readonly DecisionContribution[];
  readonly resolvedAt?: string;
  readonly resolvedBy?: string;
  readonly supersedes?: { readonly sessionId: string; readonly commitmentHash: string };
}

/** The `decision` block; `prompt` (the SessionStart intent) is kept until a decision exists. */
export interface DecisionBlock {
  readonly current?: DecisionState;
  readonly prompt?: string;
}

/** One emitted signal. */
export interface SignalEntry {
  /** The signal's message id. */
  readonly id: string;
  readonly name: string;
  readonly severity?: string;
  readonly sourceParticipantId?: string;
  readonly ts: string;
  readonly confidence?: number;
  readonly payload?: JsonValue;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
}

/** One progress report; `percentage` is on a 0–100 scale for every source. */
export interface ProgressEntry {
  readonly participantId: string;
  readonly percentage?: number;
  readonly message?: string;
  readonly ts: string;
}

/** One recent timeline entry. */
export interface TimelineEntry {
  readonly id: string;
  readonly seq: number;
  readonly ts: string;
  readonly type: CanonicalEventType;
  readonly subject?: EventSubject;
}

/** The `trace` block. */
export interface TraceBlock {
  readonly traceId?: string;
  readonly spanCount: number;
  readonly lastSpanId?: string;
  readonly linkedArtifacts: readonly string[];
}

/** Messages sent through the control plane. */
export interface OutboundMessagesBlock {
  readonly total: number;
  readonly queued: number;
  readonly accepted: number;
  readonly rejected: number;
}

/** One policy evaluation of a commitment. */
export interface CommitmentEvaluation {
  readonly commitmentId: string;
  readonly decision: string;
  readonly reasons: readonly string[];
  readonly ts: string;
}

/**
 * Ballots on one proposal/request (the reference calls the key `commitmentId`). `threshold` is
 * `requiredApprovals` when the request states one, else ⌈required/2⌉, where `required` counts
 * the participants with role `voter`, or all participants when none has that role.
 */
export interface VoteTally {
  readonly commitmentId: string;
  readonly allow: number;
  readonly deny: number;
  readonly threshold: number;
  readonly quorum: { readonly required: number; readonly cast: number };
  /** The request's own approval requirement (quorum `ApprovalRequest.required_approvals`); it is then the threshold. */
  readonly requiredApprovals?: number;
  /** Latest ballot per participant: a changed vote replaces the earlier one. */
  readonly ballots: Readonly<Record<string, Vote | "abstain">>;
}

/** Quorum progress of the run's governance. */
export type QuorumStatus = "pending" | "reached" | "failed";

/** The `policy` block. */
export interface PolicyBlock {
  readonly policyVersion: string;
  readonly policyDescription?: string;
  readonly resolvedAt?: string;
  readonly outcomePositive?: boolean | null;
  readonly commitmentEvaluations: readonly CommitmentEvaluation[];
  readonly expectedCommitments?: readonly string[];
  readonly voteTally?: readonly VoteTally[];
  readonly quorumStatus?: QuorumStatus;
}

/** One LLM call reported by a participant. */
export interface LlmCall {
  readonly participantId: string;
  readonly model?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly latencyMs?: number;
  readonly ts: string;
  readonly messageId?: string;
  readonly artifactId?: string;
  readonly estimatedCostUsd?: number;
}

/** Token and cost totals over every LLM call of the run (not only the retained ones). */
export interface LlmTotals {
  readonly callCount: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly estimatedCostUsd: number;
}

/** The `llm` block. */
export interface LlmBlock {
  readonly calls: readonly LlmCall[];
  readonly totals: LlmTotals;
}

/**
 * The run's read model (`GET /runs/:id/state`, SSE `snapshot`), every block persisted.
 * `version` is the seq of the last applied event; the fold ignores events at or below it.
 */
export interface RunStateProjection {
  readonly version: number;
  readonly run: RunBlock;
  readonly participants: readonly ParticipantState[];
  readonly graph: { readonly nodes: readonly GraphNode[]; readonly edges: readonly GraphEdge[] };
  readonly decision: DecisionBlock;
  readonly signals: { readonly signals: readonly SignalEntry[] };
  readonly progress: { readonly entries: readonly ProgressEntry[] };
  readonly timeline: { readonly latestSeq: number; readonly totalEvents: number; readonly recent: readonly TimelineEntry[] };
  readonly trace: TraceBlock;
  readonly outboundMessages: OutboundMessagesBlock;
  readonly policy: PolicyBlock;
  readonly llm: LlmBlock;
}

/**
 * Layout version of {@link RunStateProjection}. A stored projection with another value must be
 * rebuilt by folding the run's events from {@link emptyRunState}.
 */
export const RUN_STATE_SCHEMA_VERSION = 1;

/** Bounds of the capped lists (the reference's caps). */
export const RUN_STATE_LIMITS = {
  graphEdges: 300,
  decisionProposals: 50,
  signals: 200,
  progressEntries: 100,
  timelineRecent: 50,
  linkedArtifacts: 100,
  commitmentEvaluations: 50,
  voteTallies: 50,
  llmCalls: 100,
} as const;

/** The projection of a run before any event. */
export function emptyRunState(runId: string): RunStateProjection {
  return {
    version: 0,
    run: { runId, status: "queued" },
    participants: [],
    graph: { nodes: [], edges: [] },
    decision: {},
    signals: { signals: [] },
    progress: { entries: [] },
    timeline: { latestSeq: 0, totalEvents: 0, recent: [] },
    trace: { spanCount: 0, linkedArtifacts: [] },
    outboundMessages: { total: 0, queued: 0, accepted: 0, rejected: 0 },
    policy: { policyVersion: "", commitmentEvaluations: [] },
    llm: { calls: [], totals: { callCount: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, estimatedCostUsd: 0 } },
  };
}
