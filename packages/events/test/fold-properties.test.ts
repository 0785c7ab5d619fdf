import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEvent, applyMetricsEvent, emptyMetricsSummary, emptyRunState, foldEvents, foldMetrics } from "../src/index.js";
import type { CanonicalEvent } from "../src/index.js";
import { ingestScript } from "./pipeline.js";
import { decisionScript, failedTaskScript, handoffScript, multiRoundScript, proposalScript, quorumScript, RUN_ID, taskScript } from "./sessions.js";
import { EventFactory } from "./events.js";

// Real event streams of every mode, plus hand-made extras for the blocks the sessions do not touch.
function extras(): CanonicalEvent[] {
  const f = new EventFactory();
  return [
    f.next("message.sent", { sender: "agent://a", to: ["agent://b"], messageType: "Signal", ack: { ok: true } }),
    f.next("signal.emitted", { sender: "agent://a", decodedPayload: { signalType: "x" } }, { subject: { kind: "signal", id: "sig" } }),
    f.next("signal.acknowledged", { sender: "agent://b" }, { subject: { kind: "signal", id: "sig" } }),
    f.next("llm.call.completed", { participantId: "agent://a", decodedPayload: { promptTokens: 10, completionTokens: 5, model: "gpt-4o" } }),
    f.next("artifact.created", { artifactId: "art" }, { trace: { traceId: "t", spanId: "s" } }),
    f.next("message.send_failed", { errorCode: "FORBIDDEN" }),
    f.next("session.stream.opened", { status: "reconnecting" }),
  ];
}

const streams: CanonicalEvent[][] = [decisionScript, proposalScript, taskScript, failedTaskScript, handoffScript, quorumScript, multiRoundScript].map((script) => {
  const events = ingestScript(script).events;
  const last = events.at(-1)!.seq;
  return [...events, ...extras().map((e) => ({ ...e, seq: e.seq + last }))];
});

const stream = fc.constantFrom(...streams);

describe("fold determinism and idempotency (properties)", () => {
  it("folding a prefix and then the rest equals folding everything at once", () => {
    fc.assert(
      fc.property(stream, fc.nat(), (events, cut) => {
        const at = cut % (events.length + 1);
        const whole = foldEvents(emptyRunState(RUN_ID), events);
        const split = foldEvents(foldEvents(emptyRunState(RUN_ID), events.slice(0, at)), events.slice(at));
        expect(split).toEqual(whole);
        const metrics = foldMetrics(emptyMetricsSummary(RUN_ID), events);
        expect(foldMetrics(foldMetrics(emptyMetricsSummary(RUN_ID), events.slice(0, at)), events.slice(at))).toEqual(metrics);
      }),
    );
  });

  it("shuffled duplicates of already-applied events change nothing", () => {
    fc.assert(
      fc.property(stream, fc.nat(), fc.array(fc.nat(), { maxLength: 40 }), (events, cut, picks) => {
        const at = 1 + (cut % events.length);
        const applied = events.slice(0, at);
        const state = foldEvents(emptyRunState(RUN_ID), applied);
        const metrics = foldMetrics(emptyMetricsSummary(RUN_ID), applied);
        const duplicates = picks.map((i) => applied[i % applied.length]!);
        expect(duplicates.reduce(applyEvent, state)).toBe(state);
        expect(duplicates.reduce(applyMetricsEvent, metrics)).toBe(metrics);
        // Redelivery interleaved with the remaining events: same final state as a clean fold.
        const rest = events.slice(at);
        const noisy = [...rest, ...duplicates].sort((a, b) => a.seq - b.seq);
        expect(noisy.reduce(applyEvent, state)).toEqual(foldEvents(emptyRunState(RUN_ID), events));
      }),
    );
  });

  it("folding twice, or from a JSON round trip of the stored projection, gives the same state", () => {
    for (const events of streams) {
      const once = foldEvents(emptyRunState(RUN_ID), events);
      expect(foldEvents(once, events)).toBe(once);
      const half = foldEvents(emptyRunState(RUN_ID), events.slice(0, 9));
      const stored = JSON.parse(JSON.stringify(half)) as typeof half;
      expect(foldEvents(stored, events)).toEqual(once);
    }
  });
});
