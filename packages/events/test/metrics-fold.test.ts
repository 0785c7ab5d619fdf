import { describe, expect, it } from "vitest";
import { applyMetricsEvent, emptyMetricsSummary, estimateLlmCostUsd, foldMetrics } from "../src/index.js";
import { EventFactory } from "./events.js";
import { RUN_ID } from "./sessions.js";

describe("metrics fold", () => {
  it("counts every event and each category as §3.5 defines it", () => {
    const f = new EventFactory();
    const events = [
      f.next("run.created", {}, { ts: "2026-12-06T08:00:00.000Z" }),
      f.next("session.stream.opened", { status: "opened" }),
      f.next("session.stream.opened", { status: "reconnecting" }),
      f.next("message.received", { sender: "a" }),
      f.next("message.sent", { sender: "a" }),
      f.next("message.send_failed", {}),
      f.next("signal.emitted", {}),
      f.next("signal.acknowledged", {}),
      f.next("proposal.created", {}),
      f.next("proposal.updated", {}),
      f.next("tool.called", {}),
      f.next("tool.completed", {}),
      f.next("decision.finalized", {}),
      f.next("session.state.changed", { state: "SESSION_STATE_OPEN" }),
      f.next("session.state.changed", { state: "SESSION_STATE_RESOLVED" }, { ts: "2026-12-06T08:01:30.500Z" }),
    ];
    expect(foldMetrics(emptyMetricsSummary(RUN_ID), events)).toEqual({
      runId: RUN_ID,
      version: 15,
      eventCount: 15,
      messageCount: 3,
      signalCount: 1,
      proposalCount: 2,
      toolCallCount: 2,
      decisionCount: 1,
      streamReconnectCount: 1,
      firstEventAt: "2026-12-06T08:00:00.000Z",
      lastEventAt: "2026-12-06T08:01:30.500Z",
      durationMs: 90_500,
      sessionState: "SESSION_STATE_RESOLVED",
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      estimatedCostUsd: 0,
    });
  });

  it("adds tokens and the estimated cost of LLM calls", () => {
    const f = new EventFactory();
    const m = foldMetrics(emptyMetricsSummary(RUN_ID), [
      f.next("llm.call.completed", { decodedPayload: { promptTokens: 2_000_000, completionTokens: 1_000_000, totalTokens: 3_000_000, model: "claude-3-haiku" } }),
      f.next("llm.call.completed", { decodedPayload: { promptTokens: 1_000_000, completionTokens: 0, model: "unknown-model" } }),
    ]);
    expect(m).toMatchObject({ promptTokens: 3_000_000, completionTokens: 1_000_000, totalTokens: 4_000_000 });
    expect(m.estimatedCostUsd).toBeCloseTo(0.5 + 1.25 + 1);
  });

  it("ignores events at or below its version", () => {
    const f = new EventFactory();
    const e = f.next("message.received", {});
    const once = applyMetricsEvent(emptyMetricsSummary(RUN_ID), e);
    expect(applyMetricsEvent(once, e)).toBe(once);
    expect(foldMetrics(once, [e, e])).toBe(once);
  });
});

describe("estimateLlmCostUsd", () => {
  it("uses the built-in per-million rates, longest model prefix first, default 1/3", () => {
    expect(estimateLlmCostUsd("gpt-4o", 1_000_000, 1_000_000)).toBeCloseTo(12.5);
    expect(estimateLlmCostUsd("gpt-4o-mini", 1_000_000, 1_000_000)).toBeCloseTo(0.75);
    expect(estimateLlmCostUsd("claude-3-opus-20240229", 1_000_000, 0)).toBeCloseTo(15);
    expect(estimateLlmCostUsd(undefined, 1_000_000, 1_000_000)).toBeCloseTo(4);
  });
});
