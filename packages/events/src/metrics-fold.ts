import { objectField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { llmCallOf } from "./fold-llm.js";
import type { MetricsSummary } from "./metrics-summary.js";

function durationMs(first: string, last: string): number | undefined {
  const from = Date.parse(first);
  const to = Date.parse(last);
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : Math.max(0, to - from);
}

/**
 * Applies one event to the run's metrics (control-plane.md §3.5): every event counts; `message.*`
 * → messages; `signal.emitted` → signals; `proposal.*` → proposals; `tool.*` → tool calls;
 * `decision.proposed`/`decision.finalized` → decisions; `session.stream.opened` with status
 * `reconnecting` → reconnects; the last `session.state.changed` state; tokens and estimated cost
 * of `llm.call.completed`. Events at or below `version` are ignored (same object back).
 */
export function applyMetricsEvent(metrics: MetricsSummary, event: CanonicalEvent): MetricsSummary {
  if (event.seq <= metrics.version) return metrics;
  if (event.runId !== metrics.runId) {
    throw new TypeError(`event ${event.id} belongs to run ${event.runId}, not ${metrics.runId}`);
  }
  const type = event.type;
  const firstEventAt = metrics.firstEventAt ?? event.ts;
  const duration = durationMs(firstEventAt, event.ts);
  const next: MetricsSummary = {
    ...metrics,
    version: event.seq,
    eventCount: metrics.eventCount + 1,
    messageCount: metrics.messageCount + (type.startsWith("message.") ? 1 : 0),
    signalCount: metrics.signalCount + (type === "signal.emitted" ? 1 : 0),
    proposalCount: metrics.proposalCount + (type.startsWith("proposal.") ? 1 : 0),
    toolCallCount: metrics.toolCallCount + (type.startsWith("tool.") ? 1 : 0),
    decisionCount: metrics.decisionCount + (type === "decision.finalized" || type === "decision.proposed" ? 1 : 0),
    streamReconnectCount: metrics.streamReconnectCount + (type === "session.stream.opened" && textField(event.data, "status") === "reconnecting" ? 1 : 0),
    firstEventAt,
    lastEventAt: event.ts,
    ...(duration === undefined ? {} : { durationMs: duration }),
  };
  const state = type === "session.state.changed" ? textField(event.data, "state") : undefined;
  if (state !== undefined) return { ...next, sessionState: state };
  if (type === "llm.call.completed" && objectField(event.data, "decodedPayload") !== undefined) {
    const call = llmCallOf(event);
    return {
      ...next,
      promptTokens: next.promptTokens + call.promptTokens,
      completionTokens: next.completionTokens + call.completionTokens,
      totalTokens: next.totalTokens + call.totalTokens,
      estimatedCostUsd: next.estimatedCostUsd + (call.estimatedCostUsd ?? 0),
    };
  }
  return next;
}

/** Folds events into metrics in `seq` order, skipping those at or below the version. */
export function foldMetrics(metrics: MetricsSummary, events: Iterable<CanonicalEvent>): MetricsSummary {
  return [...events].sort((a, b) => a.seq - b.seq).reduce(applyMetricsEvent, metrics);
}
