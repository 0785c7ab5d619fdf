// Runtime Send throughput and latency, and StreamSession fan-out, each beside a bare grpc-js
// baseline measured in the same run. Prints one JSON document. Run after `pnpm run build`:
//   node bench/runtime-send/run.mjs
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { credentials, Metadata } from "@grpc/grpc-js";
import { SessionStartPayload } from "@macp/protocol";
import { MACPRuntimeServiceClient } from "@macp/protocol/grpc";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
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
async function measureSends(address, concurrency, label) {
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
  client.close();
  return summarize(latencies, elapsed);
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
  return {
    address,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const SUBSCRIBERS = 10;
const FANOUT_MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 2000);

/** Time for one sender's messages to reach all passive subscribers of a session. */
async function measureRuntimeFanout(address) {
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
  for (let s = 0; s < SUBSCRIBERS; s++) {
    const stream = client.streamSession(bearer(sender));
    streams.push(stream);
    done.push(
      new Promise((resolve, reject) => {
        let received = 0;
        stream.on("data", (frame) => {
          if (frame.response?.$case !== "envelope") return reject(new Error(JSON.stringify(frame)));
          received++;
          if (received === 1 && ++ready === SUBSCRIBERS) signalReady();
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
  const inflight = [];
  for (let i = 0; i < FANOUT_MESSAGES; i++) {
    const payload = enc.encode(JSON.stringify({ value: `v${i}` }));
    inflight.push(call(client, "send", { envelope: envelope(sessionId, "Contribute", `f-${i}`, payload) }, md));
    if (inflight.length >= 64) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  const finished = Math.max(...(await Promise.all(done)));
  for (const stream of streams) stream.end();
  const ms = finished - began;
  const replay = await measureHistoryReplay(client, sessionId, sender, target);
  client.close();
  return {
    subscribers: SUBSCRIBERS,
    messages: FANOUT_MESSAGES,
    ms: Math.round(ms),
    deliveries_per_sec: Math.round(((FANOUT_MESSAGES * SUBSCRIBERS) / ms) * 1000),
    history_replay: replay,
  };
}

/** Delivery alone: 10 late passive subscribers replaying the stored history from sequence 0. */
async function measureHistoryReplay(client, sessionId, sender, target) {
  const began = performance.now();
  const finished = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, () => {
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
  return { subscribers: SUBSCRIBERS, envelopes: target, ms: Math.round(ms), deliveries_per_sec: Math.round(((target * SUBSCRIBERS) / ms) * 1000) };
}

/** The same fan-out over a raw grpc-js server: each frame written on one stream is copied to every watcher. */
async function measureRawFanout(address) {
  const client = new MACPRuntimeServiceClient(address, credentials.createInsecure());
  const done = [];
  let connected = 0;
  let signalConnected;
  const allConnected = new Promise((resolve) => (signalConnected = resolve));
  const streams = [];
  for (let s = 0; s < SUBSCRIBERS; s++) {
    const stream = client.watchSignals({});
    streams.push(stream);
    stream.on("metadata", () => {
      if (++connected === SUBSCRIBERS) signalConnected();
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
  return { subscribers: SUBSCRIBERS, messages: FANOUT_MESSAGES, ms: Math.round(ms), deliveries_per_sec: Math.round(((FANOUT_MESSAGES * SUBSCRIBERS) / ms) * 1000) };
}

const dataDir = mkdtempSync(join(tmpdir(), "macp-bench-"));
const results = { date: new Date().toISOString(), duration_ms_per_point: DURATION_MS, node: process.version, send: {}, stream_fanout: {} };
const echo = await startTarget("echo");
const memory = await startTarget("memory");
const file = await startTarget("file", dataDir);
try {
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
  const raw = await measureRawFanout(echo.address);
  const runtimeFanout = await measureRuntimeFanout(memory.address);
  results.stream_fanout = { raw_grpc: raw, runtime: { ...runtimeFanout, ratio_vs_raw: Number((runtimeFanout.deliveries_per_sec / raw.deliveries_per_sec).toFixed(2)) } };
} finally {
  await Promise.all([echo.stop(), memory.stop(), file.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
