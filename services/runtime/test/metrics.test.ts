import { buildEnvelope } from "@macp/client";
import type { MacpClient, SessionStream } from "@macp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  frameIds,
  message,
  metricValue,
  newSessionId,
  openDecisionSession,
  proposal,
  scrapeMetrics,
  sendAck,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const DECISION = "macp.mode.decision.v1";

let runtime: TestRuntime;
let alice: MacpClient;
const scrape = (): Promise<string> => scrapeMetrics(runtime.handle.metricsUrl);
const value = async (sample: string): Promise<number> => metricValue(await scrape(), sample) ?? 0;

beforeAll(async () => {
  runtime = await startTestRuntime({ MACP_METRICS_ADDR: "127.0.0.1:0" });
  alice = runtime.client(ALICE);
});
afterAll(() => runtime.close());

/**
 * Gauges follow server-side cleanup that finishes after the client already saw its call end, so
 * they are polled, a bounded number of times, until they reach the expected value.
 */
async function eventually(sample: string, expected: number): Promise<void> {
  let last = NaN;
  for (let attempt = 0; attempt < 100; attempt++) {
    last = await value(sample);
    if (last === expected) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`${sample} stayed at ${last}, expected ${expected}`);
}

describe("metrics endpoint", () => {
  it("serves Prometheus text at /metrics and 404 elsewhere", async () => {
    const url = runtime.handle.metricsUrl ?? "";
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    expect((await fetch(url.replace(/\/metrics$/, "/other"))).status).toBe(404);
  });

  it("counts accepted envelopes by mode and type, excluding duplicates", async () => {
    const accepted = `macp_messages_accepted_total{mode="${DECISION}",message_type="Proposal"}`;
    const before = await value(accepted);
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1", "p1")))).toBe("ok");
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1", "p1")))).toBe("duplicate");
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m2", "p2")))).toBe("ok");
    expect(await value(accepted)).toBe(before + 2);
  });

  it("counts rejections by code", async () => {
    const notFound = `macp_messages_rejected_total{mode="${DECISION}",code="SESSION_NOT_FOUND"}`;
    const before = await value(notFound);
    for (let i = 0; i < 3; i++) expect(ackCode(await sendAck(alice, proposal(newSessionId(), `x${i}`)))).toBe("SESSION_NOT_FOUND");
    expect(await value(notFound)).toBe(before + 3);
  });

  it("observes the latency of every Send in a histogram", async () => {
    const count = 'macp_send_duration_seconds_count{outcome="ok"}';
    const before = await value(count);
    await openDecisionSession(alice, [ALICE]);
    expect(await value(count)).toBe(before + 1);
    const text = await scrape();
    expect(text).toContain("# TYPE macp_send_duration_seconds histogram");
    expect(metricValue(text, 'macp_send_duration_seconds_bucket{le="+Inf",outcome="ok"}')).toBe(before + 1);
  });

  it("tracks open sessions", async () => {
    const before = await value("macp_open_sessions");
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(await value("macp_open_sessions")).toBe(before + 1);
    expect((await alice.cancelSession({ sessionId })).ack?.ok).toBe(true);
    expect(await value("macp_open_sessions")).toBe(before);
  });

  it("tracks live stream subscribers, including ones cancelled while the server waited for them to read", async () => {
    await eventually("macp_stream_subscribers", 0);
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const streams: SessionStream[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = alice.streamSession();
      const reader = new StreamReader(stream, `subscriber ${i}`);
      stream.subscribe(sessionId);
      expect(frameIds([await reader.next()])).toEqual(["m0"]);
      streams.push(stream);
    }
    expect(await value("macp_stream_subscribers")).toBe(3);

    // A subscriber that never reads a long, wide history: the server blocks on flow control.
    const busy = await openDecisionSession(alice, [ALICE]);
    for (let i = 1; i <= 200; i++) {
      const wide = message({
        sessionId: busy,
        messageType: "Proposal",
        messageId: `m${i}`,
        json: { proposal_id: `p${i}`, option: "deploy", rationale: "x".repeat(16 * 1024) },
      });
      expect(ackCode(await sendAck(alice, wide))).toBe("ok");
    }
    const stalled = alice.streamSession();
    stalled.subscribe(busy);
    await eventually("macp_stream_subscribers", 4);
    stalled.cancel();
    for (const stream of streams) stream.cancel();
    await eventually("macp_stream_subscribers", 0);
  });

  it("keeps label values bounded when clients send junk modes and types", async () => {
    for (let i = 0; i < 20; i++) {
      const junk = buildEnvelope({
        mode: `ext.junk-${i}.v1`,
        messageType: `Junk${i}`,
        messageId: `j${i}`,
        sessionId: newSessionId(),
        payload: new Uint8Array(),
      });
      expect(ackCode(await sendAck(alice, junk))).not.toBe("ok");
    }
    const text = await scrape();
    expect(text).not.toContain("ext.junk-");
    expect(text).not.toContain("Junk");
  });
});
