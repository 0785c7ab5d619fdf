/**
 * Per-run counters (`GET /runs/:id/metrics`, §3.5, with [B]'s token and cost totals).
 * `version` is the seq of the last folded event; the fold ignores events at or below it.
 */
export interface MetricsSummary {
  readonly runId: string;
  readonly version: number;
  readonly eventCount: number;
  readonly messageCount: number;
  readonly signalCount: number;
  readonly proposalCount: number;
  readonly toolCallCount: number;
  readonly decisionCount: number;
  readonly streamReconnectCount: number;
  readonly firstEventAt?: string;
  readonly lastEventAt?: string;
  readonly durationMs?: number;
  readonly sessionState?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly estimatedCostUsd: number;
}

/** The metrics of a run before any event. */
export function emptyMetricsSummary(runId: string): MetricsSummary {
  return {
    runId,
    version: 0,
    eventCount: 0,
    messageCount: 0,
    signalCount: 0,
    proposalCount: 0,
    toolCallCount: 0,
    decisionCount: 0,
    streamReconnectCount: 0,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    estimatedCostUsd: 0,
  };
}
