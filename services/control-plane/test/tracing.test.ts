import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, startControlPlane } from "../src/index.js";
import type { ControlPlaneHandle } from "../src/index.js";
import { createLogger } from "../src/observability/logger.js";
import { BASE_ENV, dropSchema, freshSchema, request, testDatabaseUrl } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
}

/** A stand-in OTLP/HTTP collector: keeps every span the runtime exports (JSON encoding). */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
      for (const resource of parsed.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no collector port");
  return { url: `http://127.0.0.1:${address.port}/v1/traces`, spans, server };
}

describe("OpenTelemetry: HTTP server spans, DB and runtime child spans, traceparent to the runtime", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const schema = freshSchema();
  const logLines: Record<string, unknown>[] = [];
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let runtime: RuntimeDaemon;
  let cp: ControlPlaneHandle;

  beforeAll(async () => {
    provider.register();
    collector = await startCollector();
    runtime = await spawnRuntime({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "50" });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split("\n")) if (line.trim() !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    cp = await startControlPlane(loadConfig({ ...BASE_ENV, RUNTIME_ADDRESS: runtime.address, DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: schema }), { logger: createLogger("info", sink) });
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    // The runtime's exporter keeps its connection alive; close it too.
    collector?.server.closeAllConnections();
    await new Promise((resolve) => collector?.server.close(resolve));
    await provider.shutdown();
    await dropSchema(schema);
  });

  const finished = (): ReadableSpan[] => exporter.getFinishedSpans();
  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

  it("continues the caller's traceparent through POST /runs, its queries, its runtime calls and into the runtime", { timeout: 180_000 }, async () => {
    const traceId = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const created = await request(cp.url, "POST", "/runs", {
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
      body: {
        mode: "live",
        runtime: { kind: "rust" },
        session: { modeName: "macp.mode.decision.v1", modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
        kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
      },
    });
    expect(created.status).toBe(201);
    // The run remembers the trace that created it (the UI links it to Jaeger).
    expect(created.body.traceId).toBe(traceId);
    expect((await request(cp.url, "GET", `/runs/${created.body.runId}`)).body.traceId).toBe(traceId);

    const server = await waitFor("the POST /runs server span", async () => finished().find((span) => span.name === "POST /runs" && span.spanContext().traceId === traceId));
    expect(parentOf(server)).toBe(callerSpan);
    expect(server.attributes).toMatchObject({ "http.request.method": "POST", "http.route": "/runs", "http.response.status_code": 201 });

    // Descendants of the server span: database queries and runtime calls, all in the caller's trace.
    const inTrace = await waitFor("the kickoff Send span", async () => {
      const spans = finished().filter((span) => span.spanContext().traceId === traceId);
      return spans.some((span) => span.name === "macp.v1.MACPRuntimeService/Send") ? spans : undefined;
    }, 90_000);
    const byId = new Map(inTrace.map((span) => [span.spanContext().spanId, span]));
    const descendsFromServer = (span: ReadableSpan): boolean => {
      for (let parent = parentOf(span); parent !== undefined; parent = byId.get(parent) ? parentOf(byId.get(parent) as ReadableSpan) : undefined) {
        if (parent === server.spanContext().spanId) return true;
      }
      return false;
    };
    const insert = inTrace.find((span) => span.name === "INSERT" && String(span.attributes["db.query.text"]).includes("runs"));
    expect(insert).toBeDefined();
    expect(insert?.attributes["db.system.name"]).toBe("postgresql");
    expect(descendsFromServer(insert as ReadableSpan)).toBe(true);
    const initialize = inTrace.find((span) => span.name === "macp.v1.MACPRuntimeService/Initialize");
    expect(initialize).toBeDefined();
    expect(descendsFromServer(initialize as ReadableSpan)).toBe(true);
    const send = inTrace.find((span) => span.name === "macp.v1.MACPRuntimeService/Send") as ReadableSpan;
    expect(descendsFromServer(send)).toBe(true);

    // The runtime continued the same trace: its server spans carry the trace id from our metadata.
    const runtimeSpans = await waitFor("the runtime's spans of this trace", async () => {
      const spans = collector.spans.filter((span) => span.traceId === traceId);
      return spans.some((span) => span.name === "macp.v1.MACPRuntimeService/Send") ? spans : undefined;
    }, 90_000);
    const runtimeSend = runtimeSpans.find((span) => span.name === "macp.v1.MACPRuntimeService/Send");
    expect(runtimeSend).toBeDefined();
    expect(runtimeSpans.map((span) => span.name)).toContain("macp.v1.MACPRuntimeService/Initialize");

    // Log lines of the request carry its trace id.
    const completed = logLines.find((line) => line.msg === "request completed" && line.trace_id === traceId);
    expect(completed).toMatchObject({ span_id: server.spanContext().spanId });
  });

  it("starts a new trace for a request without traceparent, and keeps it out of the run when it is not sampled", async () => {
    const health = await request(cp.url, "GET", "/runs?limit=1", { headers: { "x-request-id": "untraced-1" } });
    expect(health.status).toBe(200);
    const span = await waitFor("the GET /runs span", async () => finished().find((item) => item.name === "GET /runs" && item.attributes["macp.request_id"] === "untraced-1"));
    expect(parentOf(span)).toBeUndefined();

    const traceId = randomBytes(16).toString("hex");
    const created = await request(cp.url, "POST", "/runs", {
      // Sampled flag off: the caller decided not to record this trace.
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-00` },
      body: { mode: "live", runtime: { kind: "rust" }, session: { modeName: "macp.mode.decision.v1", modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }] } },
    });
    expect(created.status).toBe(201);
    expect(created.body.traceId).toBeNull();

    // Queries outside any trace (lease renewals, background ingest) do not each start a trace of their own.
    const rootQueries = finished().filter((item) => item.attributes["db.system.name"] !== undefined && parentOf(item) === undefined);
    expect(rootQueries.map((item) => item.name)).toEqual([]);
  });
});

describe("the built binary with OTEL_* set", () => {
  const BIN = join(import.meta.dirname, "../dist/main.js");

  it("exports its spans over OTLP and flushes them when SIGTERM stops it", { timeout: 180_000 }, async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx -y pnpm@10 run build)`);
    const collector = await startCollector();
    try {
      const child = spawn(process.execPath, [BIN], {
        env: { PATH: process.env.PATH ?? "", ...BASE_ENV, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_SERVICE_NAME: "cp-under-test" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        void exited.then(() => reject(new Error(`exited before listening: ${output}`)));
      });
      const traceId = randomBytes(16).toString("hex");
      const health = await fetch(`${url}/healthz`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` } });
      expect(health.status).toBe(200);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // The batch was not due yet: the shutdown flushed it.
      expect(collector.spans.filter((span) => span.traceId === traceId).map((span) => span.name)).toEqual(["GET /healthz"]);
    } finally {
      collector.server.closeAllConnections();
      await new Promise((resolve) => collector.server.close(resolve));
    }
  });
});
