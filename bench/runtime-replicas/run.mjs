// Durable Sends/s of runtime replicas on one JetStream log (MACP_STORAGE_BACKEND=jetstream) with
// 1, 2 and 3 replicas, hot (every worker on the same few sessions, spread over all replicas) and
// spread (each worker its own session), beside one runtime on the file backend, in the same run.
// Each runtime is the real daemon in its own process; the load comes from this process. Prints
// one JSON document. Run after `pnpm run build`, with NATS JetStream at NATS_URL
// (default nats://127.0.0.1:4222):
//   node bench/runtime-replicas/run.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, Metadata } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { SessionStartPayload } from "@macp/protocol";
import { MACPRuntimeServiceClient } from "@macp/protocol/grpc";
import { jetStreamNames } from "@macp/storage";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 24);
const HOT_SESSIONS = 4;
const MODE = "ext.multi_round.v1";
const DAEMON = fileURLToPath(new URL("../../services/runtime/dist/main.js", import.meta.url));
const enc = new TextEncoder();

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

async function startDaemon(env) {
  const child = spawn(process.execPath, [DAEMON], {
    env: {
      PATH: process.env.PATH,
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_METRICS_ADDR: "off",
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
    child.once("exit", (code) => reject(new Error(`runtime exited with ${code}`)));
  });
  return {
    address,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

function startPayload(participants) {
  return SessionStartPayload.encode(
    SessionStartPayload.fromPartial({ intent: "bench", participants, modeVersion: "1.0.0", configurationVersion: "bench", ttlMs: 3_600_000 }),
  ).finish();
}

/** WORKERS senders, worker w on replica w % n, each keeping one Send in flight for DURATION_MS. */
async function measure(addresses, shape) {
  const clients = addresses.map((address) => new MACPRuntimeServiceClient(address, credentials.createInsecure()));
  const senders = Array.from({ length: WORKERS }, (_, w) => `agent-${shape}-${w}`);
  const sessions = [];
  const count = shape === "hot" ? HOT_SESSIONS : WORKERS;
  for (let s = 0; s < count; s++) {
    const sessionId = crypto.randomUUID();
    const owner = senders[s % WORKERS];
    const participants = shape === "hot" ? senders : [owner, "peer"];
    const ack = (await call(clients[s % clients.length], "send", { envelope: envelope(sessionId, "SessionStart", `s-${sessionId}`, startPayload(participants)) }, bearer(owner))).ack;
    if (!ack?.ok) throw new Error(`SessionStart failed: ${JSON.stringify(ack?.error)}`);
    sessions.push(sessionId);
  }
  let ops = 0;
  let errors = 0;
  const deadline = performance.now() + DURATION_MS;
  const began = performance.now();
  await Promise.all(
    senders.map(async (sender, w) => {
      const client = clients[w % clients.length];
      const sessionId = sessions[w % sessions.length];
      const md = bearer(sender);
      for (let i = 0; performance.now() < deadline; i++) {
        const payload = enc.encode(JSON.stringify({ value: `v${i}` }));
        const response = await call(client, "send", { envelope: envelope(sessionId, "Contribute", `${sender}-${i}`, payload) }, md);
        if (response.ack?.ok) ops++;
        else errors++;
      }
    }),
  );
  const elapsed = performance.now() - began;
  for (const client of clients) client.close();
  return { ops, errors, sends_per_sec: Math.round((ops / elapsed) * 1000) };
}

async function deletePrefix(prefix) {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  const names = jetStreamNames(prefix);
  await jsm.streams.delete(names.logStream).catch(() => false);
  for (const bucket of [names.snapshotBucket, names.registryBucket, names.leaseBucket]) await (await kvm.open(bucket)).destroy().catch(() => false);
  await nc.close();
}

const results = { date: new Date().toISOString(), cpus: cpus().length, loadavg_before: loadavg().map((l) => Number(l.toFixed(2))), workers: WORKERS, duration_ms: DURATION_MS, runs: [] };

const dataDir = mkdtempSync(join(tmpdir(), "macp-bench-replicas-"));
try {
  for (const shape of ["hot", "spread"]) {
    const file = await startDaemon({ MACP_STORAGE_BACKEND: "file", MACP_DATA_DIR: join(dataDir, shape) });
    try {
      results.runs.push({ backend: "file", replicas: 1, shape, ...(await measure([file.address], shape)) });
    } finally {
      await file.stop();
    }
  }
  for (const replicas of [1, 2, 3]) {
    for (const shape of ["hot", "spread"]) {
      const prefix = `bench_rr_${process.pid}_${replicas}_${shape}`;
      const daemons = [];
      try {
        for (let r = 0; r < replicas; r++) {
          daemons.push(await startDaemon({ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: NATS_URL, MACP_JETSTREAM_PREFIX: prefix }));
        }
        results.runs.push({ backend: "jetstream (one server)", replicas, shape, ...(await measure(daemons.map((d) => d.address), shape)) });
      } finally {
        await Promise.all(daemons.map((d) => d.stop()));
        await deletePrefix(prefix);
      }
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const fileOf = (shape) => results.runs.find((run) => run.backend === "file" && run.shape === shape).sends_per_sec;
for (const run of results.runs) run.vs_file = Number((run.sends_per_sec / fileOf(run.shape)).toFixed(2));
results.loadavg_after = loadavg().map((l) => Number(l.toFixed(2)));
console.log(JSON.stringify(results, null, 2));
