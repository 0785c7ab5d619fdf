// Cost per raw runtime event of the control plane's event pipeline (@macp/events): normalize
// (context from the projection) → sequence → fold into the projection and the metrics, measured
// in windows at growing history lengths. The first window (empty history) is the baseline: the
// fold's lists are capped, so later windows should cost the same per event. Prints JSON.
import { ModeId, encodePayload } from "@macp/protocol";
import {
  applyEvent,
  applyMetricsEvent,
  emptyMetricsSummary,
  emptyRunState,
  normalizeContextFor,
  normalizeRawEvent,
  rawEventKey,
  sequenceEvents,
} from "@macp/events";

const RUN_ID = "0b6a5a3e-3a53-4b38-9d7c-6d2f0d3c6f01";
const WINDOW = Number(process.env.BENCH_WINDOW ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const CHECKPOINTS = (process.env.BENCH_HISTORY ?? "0,10000,50000,100000").split(",").map(Number);

function* rawStream(participants) {
  const ids = Array.from({ length: participants }, (_, i) => `agent://p${i}`);
  const mode = ModeId.Decision;
  let n = 0;
  const raw = (sender, messageType, payload) => ({
    kind: "stream-envelope",
    envelope: { macpVersion: "1.0", mode, messageType, messageId: `m-${n}`, sessionId: "s-1", sender, timestampUnixMs: n, payload },
    runtimeSequence: n,
    receivedAt: new Date(Date.UTC(2026, 11, 6) + n++ * 10).toISOString(),
  });
  yield raw(ids[0], "SessionStart", encodePayload(mode, "SessionStart", { intent: "bench", participants: ids, modeVersion: "1.0.0", configurationVersion: "c", ttlMs: 60000 }));
  for (let round = 0; ; round++) {
    const proposalId = `p${round}`;
    yield raw(ids[round % participants], "Proposal", encodePayload(mode, "Proposal", { proposalId, option: "x", rationale: "why" }));
    for (let i = 0; i < Math.min(participants, 12); i++) {
      const sender = ids[(round + i) % participants];
      yield i % 3 === 0
        ? raw(sender, "Evaluation", encodePayload(mode, "Evaluation", { proposalId, recommendation: "APPROVE", confidence: 0.7, reason: "ok" }))
        : raw(sender, "Vote", encodePayload(mode, "Vote", { proposalId, vote: i % 2 ? "APPROVE" : "REJECT", reason: "r" }));
    }
    yield raw(ids[round % participants], "Signal", encodePayload(mode, "Signal", { signalType: "tick", confidence: 0.5 }));
  }
}

/** One run's ingestion: `ingest()` takes the next raw event through the whole pipeline. */
function pipeline(participants) {
  const run = { state: emptyRunState(RUN_ID), metrics: emptyMetricsSummary(RUN_ID), seq: 1 };
  const stream = rawStream(participants);
  run.ingest = () => {
    const raw = stream.next().value;
    const drafts = normalizeRawEvent(raw, normalizeContextFor(run.state));
    const { events, nextSeq } = sequenceEvents({ runId: RUN_ID, rawKey: rawEventKey(raw), drafts, firstSeq: run.seq });
    run.seq = nextSeq;
    for (const event of events) {
      run.state = applyEvent(run.state, event);
      run.metrics = applyMetricsEvent(run.metrics, event);
    }
  };
  return run;
}

function measure(participants) {
  // Warm the JIT on a throwaway run so the empty-history window is a fair baseline.
  const warm = pipeline(participants);
  for (let i = 0; i < WARMUP; i++) warm.ingest();
  const run = pipeline(participants);
  const ingest = run.ingest;
  const windows = [];
  for (const history of CHECKPOINTS) {
    while (run.state.timeline.totalEvents < history) ingest();
    const eventsBefore = run.state.timeline.totalEvents;
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < WINDOW; i++) ingest();
    const cpu = process.cpuUsage(cpuStart);
    const ns = Number(process.hrtime.bigint() - start);
    const canonical = run.state.timeline.totalEvents - eventsBefore;
    windows.push({
      historyEvents: eventsBefore,
      rawEvents: WINDOW,
      canonicalEvents: canonical,
      usPerRawEvent: +(ns / 1000 / WINDOW).toFixed(2),
      cpuUsPerRawEvent: +((cpu.user + cpu.system) / WINDOW).toFixed(2),
      usPerCanonicalEvent: +(ns / 1000 / canonical).toFixed(2),
      projectionJsonBytes: JSON.stringify(run.state).length,
    });
  }
  const baseline = windows[0].cpuUsPerRawEvent;
  return { participants, windows: windows.map((w) => ({ ...w, cpuVsBaseline: +(w.cpuUsPerRawEvent / baseline).toFixed(2) })) };
}

const results = [20, 1000].map(measure);
console.log(JSON.stringify({ bench: "events-fold", node: process.version, window: WINDOW, warmup: WARMUP, results }, null, 2));
