// Runtime Send throughput and latency, StreamSession fan-out and the cost of tracing, each beside
// a bare grpc-js baseline measured in the same run. Prints one JSON document. Run after
// `pnpm run build`:
//   node bench/runtime-send/run.mjs
// BENCH_SECTIONS (comma-separated, default all): send, fanout, tracing, clients.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { credentials, Metadata } from "@grpc/grpc-js";
import { SessionStartPayload } from "@macp/protocol";
import { MACPRuntimeServiceClient } from "@macp/protocol/grpc";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "send,fanout,tracing,clients").split(","));
const CONCURRENCY = [1, 16, 64];
const MODE = "ext.multi_round.v1";
const enc = new TextEncoder();

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(latencies, elapsedMs) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ops: latencies.length,
    ops_per_sec: Math.round((latencies.length / elapsedMs) * 1000),
    p50_ms: Number(percentile(sorted, 50).toFixed(3)),
    p99_ms: Number(percentile(sorted, 99).toFixed(3)),
  };
}

function call(client, method, request, metadata) {
  return new Promise((resolve, reject) => client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

function bearer(sender) {
  const md = new Metadata();
  md.set("authorization", `Bearer ${sender}`);
  return md;
}

function envelope(sessionId, messageType, messageId, payload) {
  return { macpVersion: "1.0", mode: MODE, messageType, messageId, sessionId, sender: "", timestampUnixMs: 0n, payload };
}

/** Workers each own a session and keep one Send in flight for the duration. */
async function measureSends(address, concurrency, label, cpu) {
  const client = new MACPRuntimeServiceClient(address, credentials.createInsecure());
  const workers = [];
  for (let w = 0; w < concurrency; w++) {
    const sender = `agent-${label}-${concurrency}-${w}`;
    const sessionId = crypto.randomUUID();
    const start = SessionStartPayload.encode(
      SessionStartPayload.fromPartial({
        intent: "bench",
        participants: [sender, "peer"],
        modeVersion: "1.0.0",
        configurationVersion: "bench",
        ttlMs: 3_600_000,
      }),
    ).finish();
    const ack = (await call(client, "send", { envelope: envelope(sessionId, "SessionStart", `s-${sessionId}`, start) }, bearer(sender))).ack;
    if (!ack?.ok) throw new Error(`SessionStart failed: ${JSON.stringify(ack?.error)}`);
    workers.push({ sender, sessionId, md: bearer(sender) });
  }
  const latencies = [];
  const deadline = performance.now() + DURATION_MS;
  const began = performance.now();
  const cpuBefore = cpu?.();
  await Promise.all(
    workers.map(async (worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const payload = enc.encode(JSON.stringify({ value: `v${i}` }));
        const t = performance.now();
        const response = await call(client, "send", { envelope: envelope(worker.sessionId, "Contribute", `${worker.sessionId}-${i}`, payload) }, worker.md);
        latencies.push(performance.now() - t);
        if (!response.ack?.ok) throw new Error(`Send rejected: ${JSON.stringify(response.ack?.error)}`);
      }
    }),
  );
  const elapsed = performance.now() - began;
  const cpuAfter = cpu?.();
  client.close();
  const summary = summarize(latencies, elapsed);
  return cpu ? { ...summary, server_cpu_us_per_send: Math.round(((cpuAfter - cpuBefore) * 1000) / latencies.length) } : summary;
}

/** Starts a benchmark target (echo, memory or file runtime) in a child process. */
async function startTarget(kind, dataDir) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./server.mjs", import.meta.url)), kind, dataDir ?? ""], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk) => resolve(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`${kind} target exited with ${code}`)));
  });
  const { address } = JSON.parse(line);
  return targetHandle(child, address);
}

const DAEMON = fileURLToPath(new URL("../../services/runtime/dist/main.js", import.meta.url));

/** Starts the runtime daemon itself (`macp-runtime`, memory storage) with extra environment. */
async function startDaemon(env) {
  const child = spawn(process.execPath, [DAEMON], {
    env: {
      PATH: process.env.PATH,
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_METRICS_ADDR: "off",
      MACP_MEMORY_ONLY: "1",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "100000000",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "100000000",
      MACP_LOG_LEVEL: "silent",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const address = await new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk.toString();
      const match = /listening on (\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}`)));
  });
  return targetHandle(child, address);
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux; clock ticks of 10 ms). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function targetHandle(child, address) {
  return {
    address,
    cpuMs: () => cpuMs(child.pid),
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const FANOUT_SUBSCRIBERS = (process.env.BENCH_FANOUT_SUBSCRIBERS ?? "10,100").split(",").map(Number);
const FANOUT_MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 2000);

/**
 * Time for one sender's messages to reach all passive subscribers of a session. The sender
 * either writes envelope frames on its own StreamSession (as the raw baseline's publisher writes
 * on one stream) or makes unary Sends, 64 in flight.
 */
async function measureRuntimeFanout(address, subscribers, publisher) {
  const client = new MACPRuntimeServiceClient(address, credentials.createInsecure());
  const sender = "fanout-sender";
  const sessionId = crypto.randomUUID();
  const start = SessionStartPayload.encode(
    SessionStartPayload.fromPartial({ intent: "bench", participants: [sender, "peer"], modeVersion: "1.0.0", configurationVersion: "bench", ttlMs: 3_600_000 }),
  ).finish();
  await call(client, "send", { envelope: envelope(sessionId, "SessionStart", `s-${sessionId}`, start) }, bearer(sender));
  const target = FANOUT_MESSAGES + 1;
  let ready = 0;
  const done = [];
  let signalReady;
  const allReady = new Promise((resolve) => (signalReady = resolve));
  const streams = [];
  for (let s = 0; s < subscribers; s++) {
    const stream = client.streamSession(bearer(sender));
    streams.push(stream);
    done.push(
      new Promise((resolve, reject) => {
        let received = 0;
        stream.on("data", (frame) => {
          if (frame.response?.$case !== "envelope") return reject(new Error(JSON.stringify(frame)));
          received++;
          if (received === 1 && ++ready === subscribers) signalReady();
          if (received === target) resolve(performance.now());
        });
        stream.on("error", reject);
      }),
    );
    stream.write({ envelope: undefined, subscribeSessionId: sessionId, afterSequence: 0n });
  }
  await allReady;
  const began = performance.now();
  const md = bearer(sender);
  if (publisher === "stream") {
    const own = client.streamSession(md);
    own.on("data", (frame) => {
      if (frame.response?.$case === "error") throw new Error(JSON.stringify(frame));
    });
    for (let i = 0; i < FANOUT_MESSAGES; i++) {
      const payload = enc.encode(JSON.stringify({ value: `v${i}` }));
      const ok = own.write({ envelope: envelope(sessionId, "Contribute", `f-${i}`, payload), subscribeSessionId: "", afterSequence: 0n });
      if (!ok) await new Promise((r) => own.once("drain", r));
    }
    streams.push(own);
  } else {
    const inflight = [];
    for (let i = 0; i < FANOUT_MESSAGES; i++) {
      const payload = enc.encode(JSON.stringify({ value: `v${i}` }));
      inflight.push(call(client, "send", { envelope: envelope(sessionId, "Contribute", `f-${i}`, payload) }, md));
      if (inflight.length >= 64) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
  }
  const finished = Math.max(...(await Promise.all(done)));
  for (const stream of streams) stream.end();
  const ms = finished - began;
  const replay = await measureHistoryReplay(client, sessionId, sender, target, subscribers);
  client.close();
  return {
    publisher,
    subscribers,
    messages: FANOUT_MESSAGES,
    ms: Math.round(ms),
    deliveries_per_sec: Math.round(((FANOUT_MESSAGES * subscribers) / ms) * 1000),
    history_replay: replay,
  };
}

/** Delivery alone: late passive subscribers replaying the stored history from sequence 0. */
async function measureHistoryReplay(client, sessionId, sender, target, subscribers) {
  const began = performance.now();
  const finished = await Promise.all(
    Array.from({ length: subscribers }, () => {
      const stream = client.streamSession(bearer(sender));
      return new Promise((resolve, reject) => {
        let received = 0;
        stream.on("data", () => {
          if (++received === target) {
            resolve(performance.now());
            stream.end();
          }
        });
        stream.on("error", reject);
        stream.write({ envelope: undefined, subscribeSessionId: sessionId, afterSequence: 0n });
      });
    }),
  );
  const ms = Math.max(...finished) - began;
  return { subscribers, envelopes: target, ms: Math.round(ms), deliveries_per_sec: Math.round(((target * subscribers) / ms) * 1000) };
}

/** The same fan-out over a raw grpc-js server: each frame written on one stream is copied to every watcher. */
async function measureRawFanout(address, subscribers) {
  const client = new MACPRuntimeServiceClient(address, credentials.createInsecure());
  const done = [];
  let connected = 0;
  let signalConnected;
  const allConnected = new Promise((resolve) => (signalConnected = resolve));
  const streams = [];
  for (let s = 0; s < subscribers; s++) {
    const stream = client.watchSignals({});
    streams.push(stream);
    stream.on("metadata", () => {
      if (++connected === subscribers) signalConnected();
    });
    done.push(
      new Promise((resolve, reject) => {
        let received = 0;
        stream.on("data", (response) => {
          if (response.envelope?.messageId.startsWith("sig-") && ++received === FANOUT_MESSAGES) resolve(performance.now());
        });
        stream.on("error", (e) => (e.code === 1 ? undefined : reject(e)));
      }),
    );
  }
  // A warm-up frame proves every watcher is attached before timing starts.
  const publisher = client.streamSession();
  const timer = setInterval(() => publisher.write({ envelope: envelope("", "Signal", "probe", new Uint8Array()), subscribeSessionId: "", afterSequence: 0n }), 50);
  await allConnected;
  clearInterval(timer);
  const began = performance.now();
  for (let i = 0; i < FANOUT_MESSAGES; i++) {
    const ok = publisher.write({ envelope: envelope("", "Signal", `sig-${i}`, enc.encode(`v${i}`)), subscribeSessionId: "", afterSequence: 0n });
    if (!ok) await new Promise((r) => publisher.once("drain", r));
  }
  const finished = Math.max(...(await Promise.all(done)));
  publisher.end();
  for (const stream of streams) stream.cancel();
  client.close();
  const ms = finished - began;
  return { subscribers, messages: FANOUT_MESSAGES, ms: Math.round(ms), deliveries_per_sec: Math.round(((FANOUT_MESSAGES * subscribers) / ms) * 1000) };
}

/** An OTLP/HTTP collector stand-in: accepts every trace export and counts it. */
async function startOtlpStub() {
  const received = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on("data", (chunk) => (received.bytes += chunk.length));
    request.on("end", () => {
      received.requests++;
      response.writeHead(200, { "content-type": "application/json" });
      response.end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

const TRACING_ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 3);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Send throughput and server CPU per Send of the daemon with tracing off and on (10% of root
 * spans sampled by trace id, exported over OTLP/HTTP to a local stub), beside the echo server.
 * The three targets take turns for TRACING_ROUNDS rounds so machine load hits them alike; the
 * median round is reported.
 */
async function measureTracing(echo) {
  const stub = await startOtlpStub();
  const off = await startDaemon({});
  const on = await startDaemon({
    OTEL_EXPORTER_OTLP_ENDPOINT: stub.url,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.1",
    OTEL_BSP_SCHEDULE_DELAY: "500",
  });
  const result = {};
  try {
    for (const c of [16, 64]) {
      const rounds = { echo: [], off: [], on: [] };
      for (let round = 0; round < TRACING_ROUNDS; round++) {
        rounds.echo.push(await measureSends(echo.address, c, `trace-echo-${round}`, echo.cpuMs));
        rounds.off.push(await measureSends(off.address, c, `trace-off-${round}`, off.cpuMs));
        rounds.on.push(await measureSends(on.address, c, `trace-on-${round}`, on.cpuMs));
      }
      const pick = (runs) => {
        const m = median(runs.map((r) => r.ops_per_sec));
        return { ...runs.find((r) => r.ops_per_sec === m), runs_ops_per_sec: runs.map((r) => r.ops_per_sec), median_cpu_us_per_send: median(runs.map((r) => r.server_cpu_us_per_send)) };
      };
      const echoRun = pick(rounds.echo);
      const offRun = pick(rounds.off);
      const onRun = pick(rounds.on);
      result[`inflight_${c}`] = {
        echo: echoRun,
        tracing_off: { ...offRun, ratio_vs_echo: Number((offRun.ops_per_sec / echoRun.ops_per_sec).toFixed(2)) },
        tracing_on_10pct: {
          ...onRun,
          ratio_vs_echo: Number((onRun.ops_per_sec / echoRun.ops_per_sec).toFixed(2)),
          ratio_vs_off: Number((onRun.ops_per_sec / offRun.ops_per_sec).toFixed(2)),
          cpu_ratio_vs_off: Number((onRun.median_cpu_us_per_send / offRun.median_cpu_us_per_send).toFixed(2)),
        },
      };
    }
  } finally {
    await Promise.all([off.stop(), on.stop()]);
    await stub.close();
  }
  result.otlp_stub = { ...stub.received };
  return result;
}

const LOAD_CLIENTS = Number(process.env.BENCH_CLIENTS ?? 3);
const LOAD_INFLIGHT = Number(process.env.BENCH_CLIENT_INFLIGHT ?? 64);
const LOAD_CLIENT = fileURLToPath(new URL("./load-client.mjs", import.meta.url));

/**
 * Sends from LOAD_CLIENTS separate client processes at once (LOAD_INFLIGHT each, one session per
 * slot), so one client's event loop no longer caps the rate; reports the total and the server
 * process's CPU time per accepted Send over the same window.
 */
async function measureMultiClient(target, label) {
  const clients = [];
  for (let c = 0; c < LOAD_CLIENTS; c++) {
    const child = spawn(process.execPath, [LOAD_CLIENT, target.address, String(LOAD_INFLIGHT), String(DURATION_MS), `${label}-${c}`], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = [];
    let text = "";
    const line = () =>
      new Promise((resolve, reject) => {
        const check = () => {
          const at = text.indexOf("\n");
          if (at < 0) return false;
          lines.push(text.slice(0, at));
          text = text.slice(at + 1);
          resolve(lines.at(-1));
          return true;
        };
        if (check()) return;
        const onData = (chunk) => {
          text += chunk.toString();
          if (check()) child.stdout.off("data", onData);
        };
        child.stdout.on("data", onData);
        child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`load client exited with ${code}`))));
      });
    clients.push({ child, line });
  }
  for (const client of clients) if ((await client.line()) !== "ready") throw new Error("load client did not get ready");
  const cpuBefore = target.cpuMs();
  const began = performance.now();
  for (const client of clients) client.child.stdin.write("go\n");
  const reports = await Promise.all(clients.map(async (client) => JSON.parse(await client.line())));
  const elapsed = performance.now() - began;
  const cpu = target.cpuMs() - cpuBefore;
  const ops = reports.reduce((sum, report) => sum + report.ops, 0);
  return {
    clients: LOAD_CLIENTS,
    inflight_per_client: LOAD_INFLIGHT,
    ops,
    ops_per_sec: Math.round((ops / elapsed) * 1000),
    per_client: reports,
    server_cpu_ms: cpu,
    server_cpu_us_per_send: Math.round((cpu * 1000) / ops),
    server_cpu_share: Number((cpu / elapsed).toFixed(2)),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "macp-bench-"));
const results = { date: new Date().toISOString(), duration_ms_per_point: DURATION_MS, node: process.version };
const echo = await startTarget("echo");
const memory = await startTarget("memory");
const file = await startTarget("file", dataDir);
try {
  if (SECTIONS.has("send")) {
    results.send = {};
    for (const c of CONCURRENCY) {
      const baseline = await measureSends(echo.address, c, "echo");
      const mem = await measureSends(memory.address, c, "memory");
      const durable = await measureSends(file.address, c, "file");
      results.send[`inflight_${c}`] = {
        echo: baseline,
        memory: { ...mem, ratio_vs_echo: Number((mem.ops_per_sec / baseline.ops_per_sec).toFixed(2)) },
        file: { ...durable, ratio_vs_echo: Number((durable.ops_per_sec / baseline.ops_per_sec).toFixed(2)) },
      };
    }
  }
  if (SECTIONS.has("fanout")) {
    results.stream_fanout = {};
    for (const subscribers of FANOUT_SUBSCRIBERS) {
      const raw = await measureRawFanout(echo.address, subscribers);
      const streamed = await measureRuntimeFanout(memory.address, subscribers, "stream");
      const unary = await measureRuntimeFanout(memory.address, subscribers, "unary");
      const ratio = (run) => Number((run.deliveries_per_sec / raw.deliveries_per_sec).toFixed(2));
      results.stream_fanout[`subscribers_${subscribers}`] = {
        raw_grpc: raw,
        runtime_stream_publisher: { ...streamed, ratio_vs_raw: ratio(streamed), history_replay_ratio_vs_raw: ratio(streamed.history_replay) },
        runtime_unary_sends: { ...unary, ratio_vs_raw: ratio(unary) },
      };
    }
  }
  if (SECTIONS.has("tracing")) results.tracing = await measureTracing(echo);
  if (SECTIONS.has("clients")) {
    const baseline = await measureMultiClient(echo, "echo");
    const durable = await measureMultiClient(file, "file");
    results.multi_client = {
      echo: baseline,
      file: {
        ...durable,
        ratio_vs_echo: Number((durable.ops_per_sec / baseline.ops_per_sec).toFixed(2)),
        cpu_per_send_vs_echo: Number((durable.server_cpu_us_per_send / baseline.server_cpu_us_per_send).toFixed(2)),
      },
    };
  }
} finally {
  await Promise.all([echo.stop(), memory.stop(), file.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
