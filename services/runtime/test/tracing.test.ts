import { Writable } from "node:stream";
import { Metadata } from "@grpc/grpc-js";
import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import type { SendResponse } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_ENV, newSessionId, proposal, sessionStart } from "./support/runtime-harness.js";
import { createLogger, loadConfig, startRuntime } from "../src/index.js";
import type { RuntimeHandle } from "../src/index.js";
import { createMacpClient, type MacpClient } from "@macp/client";

const ALICE = "agent://alice";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const lines: Record<string, unknown>[] = [];
let runtime: RuntimeHandle;
let client: MacpClient;

beforeAll(async () => {
  provider.register();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  runtime = await startRuntime(loadConfig({ ...BASE_ENV, MACP_LOG_LEVEL: "debug" }), { logger: createLogger("debug", sink) });
  client = createMacpClient({ address: runtime.address, auth: { bearer: ALICE } });
});
afterAll(async () => {
  client.close();
  await runtime.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** A Send over the generated gRPC client with the caller's traceparent in the metadata. */
function tracedSend(envelope: ReturnType<typeof proposal>, parentSpan: string): Promise<SendResponse> {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${ALICE}`);
  metadata.set("traceparent", `00-${TRACE_ID}-${parentSpan}-01`);
  return new Promise((resolve, reject) =>
    client.grpcClient.send({ envelope }, metadata, (error, response) => (error || !response ? reject(error ?? new Error("no response")) : resolve(response))),
  );
}

describe("OpenTelemetry traces", () => {
  it("continues the caller's trace: an RPC span with MACP attributes and children for auth, kernel and durable append", async () => {
    const sessionId = newSessionId();
    const ack = (await tracedSend(sessionStart({ sessionId, participants: [ALICE] }), PARENT_SPAN)).ack;
    expect(ack?.ok).toBe(true);
    await tracedSend(proposal(sessionId, "m1"), PARENT_SPAN);
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID);
    const rpc = spans.filter((span) => span.name === "macp.v1.MACPRuntimeService/Send");
    expect(rpc).toHaveLength(2);
    const [start, next] = rpc;
    expect(start?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(start?.attributes).toMatchObject({
      "macp.session_id": sessionId,
      "macp.message_id": expect.any(String),
      "macp.mode": "macp.mode.decision.v1",
      "macp.message_type": "SessionStart",
    });
    expect(next?.attributes["macp.message_type"]).toBe("Proposal");
    for (const parent of rpc) {
      const children = spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId).map((span) => span.name);
      expect(children).toEqual(expect.arrayContaining(["macp.authenticate", "macp.kernel.decide"]));
      const decide = spans.find((span) => span.name === "macp.kernel.decide" && span.parentSpanContext?.spanId === parent.spanContext().spanId);
      const appends = spans.filter((span) => span.name === "macp.storage.append" && span.parentSpanContext?.spanId === decide?.spanContext().spanId);
      expect(appends).toHaveLength(1);
    }
    const logged = lines.filter((line) => line.msg === "envelope accepted" && line.session_id === sessionId);
    expect(logged).toHaveLength(2);
    for (const line of logged) expect(line.trace_id).toBe(TRACE_ID);
  });

  it("records the MACP error code of a refused envelope", async () => {
    exporter.reset();
    const sessionId = newSessionId();
    const ack = (await tracedSend(proposal(sessionId, "x1"), "1111111111111111")).ack;
    expect(ack?.error?.code).toBe("SESSION_NOT_FOUND");
    const [span] = exporter.getFinishedSpans().filter((s) => s.name === "macp.v1.MACPRuntimeService/Send");
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(span?.attributes["macp.error_code"]).toBe("SESSION_NOT_FOUND");
    expect(span?.attributes["macp.session_id"]).toBe(sessionId);
  });
});
