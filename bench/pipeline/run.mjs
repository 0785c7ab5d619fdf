// Event pipeline throughput and latency (issue 11): runtime input handed to the control plane's
// ingest sink → bus → projector (one transaction per batch, canonical events published per
// batch) → live fan-out → an SSE client of the control plane. Measured for each bus setup in the
// same run: the in-process bus (embedded mode, the baseline) and NATS JetStream with 1 and 2
// projection-worker processes. Per setup: events/s into one run, aggregate events/s across
// BENCH_RUNS concurrent runs (one SSE client each), and handed-to-ingest → SSE latency at a paced
// BENCH_RATE envelopes/s into one run. Envelopes are `ext.multi_round.v1` Contribute messages (two
// canonical events each). Prints JSON.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildEnvelope } from "@macp/client";
import { loadConfig, startControlPlane } from "@macp/control-plane";
import pg from "pg";

const MODE = "ext.multi_round.v1";
const ONE_RUN = Number(process.env.BENCH_ONE_RUN ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const PER_RUN = Number(process.env.BENCH_PER_RUN ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const PACED_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SETUPS = (process.env.BENCH_SETUPS ?? "memory,nats-1,nats-2").split(",");
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const PARTITIONS = 8;

const RUNTIME_BIN = fileURLToPath(new URL("../node_modules/@macp/runtime/dist/main.js", import.meta.url));
const WORKER_BIN = fileURLToPath(new URL("../../services/projection-worker/dist/main.js", import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

function spawnProcess(bin, env, ready) {
  const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const started = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${bin} exited with ${code}: ${output.slice(-2000)}`)));
  });
  const stop = () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.on("exit", resolve), child.kill("SIGTERM"))));
  return { started, stop };
}

async function readSse(response, onFrame) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let event = "message";
      let data;
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data = line.slice(6);
      }
      if (data !== undefined) onFrame(event, data);
    }
  }
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p) => (sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10);
  return { count: sorted.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: sorted.length ? Math.round(sorted.at(-1)) : null };
}

async function runSetup(setup, runtime) {
  const schema = `bench_pipeline_${Date.now()}`;
  const prefix = `benchpl${Date.now()}`;
  const nats = setup.startsWith("nats");
  const workers = nats ? Number(setup.split("-")[1]) : 0;
  const env = { DATABASE_URL, DATABASE_SCHEMA: schema, BUS_PARTITIONS: String(PARTITIONS), ...(nats ? { NATS_URL, BUS_PREFIX: prefix } : {}) };
  const cp = await startControlPlane(loadConfig({ NODE_ENV: "development", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent", RUNTIME_ADDRESS: runtime, THROTTLE_LIMIT: "100000000", ...env }));
  const children = [];
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  try {
    for (let index = 0; index < workers; index += 1) {
      const worker = spawnProcess(WORKER_BIN, { ...env, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "warn" }, /(serving health)/);
      children.push(worker);
      await worker.started;
    }
    const launch = async () => {
      const created = await fetch(`${cp.url}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          mode: "live",
          runtime: { kind: "rust" },
          session: { modeName: MODE, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 3_600_000, initiatorParticipantId: "alice", participants: [{ id: "alice" }, { id: "bob" }, { id: "carol" }] },
        }),
      }).then((response) => response.json());
      if (!created.runId) throw new Error(`POST /runs: ${JSON.stringify(created)}`);
      for (;;) {
        const row = await db.query(`select r.status, s.last_runtime_seq from "${schema}".runs r left join "${schema}".runtime_sessions s on s.run_id = r.id where r.id = $1`, [created.runId]);
        const run = row.rows[0];
        if (run?.status === "running" && run.last_runtime_seq >= 1) return { ...created, cursor: run.last_runtime_seq };
        if (["failed", "cancelled", "completed"].includes(run?.status)) throw new Error(`run ${run.status}`);
        await sleep(50);
      }
    };
    /** An SSE client on a run: arrival time per messageId, canonical event count. */
    const follow = async (runId) => {
      const arrivals = new Map();
      const counts = { canonical: 0 };
      const response = await fetch(`${cp.url}/runs/${runId}/stream?afterSeq=0&includeSnapshot=false`, { headers: { accept: "text/event-stream" } });
      readSse(response, (event, data) => {
        if (event !== "canonical_event") return;
        counts.canonical += 1;
        const parsed = JSON.parse(data);
        if (parsed.type === "message.received") arrivals.set(parsed.data.messageId, now());
      }).catch(() => undefined);
      return { arrivals, counts };
    };
    const envelopes = (run, count) =>
      Array.from({ length: count }, (_, index) => {
        const messageId = randomUUID();
        const envelope = buildEnvelope({ mode: MODE, sessionId: run.sessionId, messageType: "Contribute", messageId, sender: index % 2 ? "alice" : "bob", payload: new TextEncoder().encode(JSON.stringify({ value: `v${index}` })) });
        return { kind: "stream-envelope", envelope, runtimeSequence: 0, receivedAt: new Date().toISOString() };
      });
    const waitAll = async (followers, ids, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && ids.some(([index, id]) => !followers[index].arrivals.has(id))) await sleep(10);
    };
    /** Hands `raws` to the sink in batches, numbering envelopes from the run's stored cursor. */
    const ingest = async (run, raws, handed) => {
      for (let first = 0; first < raws.length; first += BATCH) {
        const batch = raws.slice(first, first + BATCH);
        const at = now();
        for (const raw of batch) handed.set(raw.envelope.messageId, at);
        run.cursor = (await cp.context.sink.ingestBatch(run.runId, batch, run.cursor)).runtimeCursor;
      }
    };

    // Runs first (launch through the runtime is slow here and not what is measured).
    const runs = [];
    for (let first = 0; first < RUNS + 2; first += 8) runs.push(...(await Promise.all(Array.from({ length: Math.min(8, RUNS + 2 - first) }, launch))));
    const [oneRun, pacedRun, ...many] = runs;

    // One run: ONE_RUN envelopes as fast as the sink takes them.
    const oneFollower = await follow(oneRun.runId);
    await sleep(200);
    const oneRaws = envelopes(oneRun, ONE_RUN);
    const handedOne = new Map();
    const oneStart = now();
    await ingest(oneRun, oneRaws, handedOne);
    await waitAll([oneFollower], oneRaws.map((raw) => [0, raw.envelope.messageId]), 300_000);
    const oneSeconds = (Math.max(...oneRaws.map((raw) => oneFollower.arrivals.get(raw.envelope.messageId) ?? Number.NaN)) - oneStart) / 1000;

    // Many runs at once: PER_RUN envelopes into each of RUNS runs concurrently.
    const followers = await Promise.all(many.map((run) => follow(run.runId)));
    await sleep(500);
    const manyRaws = many.map((run) => envelopes(run, PER_RUN));
    const handedMany = new Map();
    const manyStart = now();
    await Promise.all(many.map((run, index) => ingest(run, manyRaws[index], handedMany)));
    const manyIds = manyRaws.flatMap((raws, index) => raws.map((raw) => [index, raw.envelope.messageId]));
    await waitAll(followers, manyIds, 300_000);
    const manyLast = Math.max(...manyIds.map(([index, id]) => followers[index].arrivals.get(id) ?? Number.NaN));
    const manySeconds = (manyLast - manyStart) / 1000;
    const manyCanonical = followers.reduce((sum, follower) => sum + follower.counts.canonical, 0);

    // Paced: RATE envelopes/s into one run in 10 ms ticks; latency handed → SSE.
    const pacedFollower = await follow(pacedRun.runId);
    await sleep(200);
    const handedPaced = new Map();
    const pacedIds = [];
    const total = RATE * PACED_SECONDS;
    const pacedStart = now();
    while (pacedIds.length < total) {
      const due = Math.min(total, Math.floor(((now() - pacedStart) / 1000) * RATE));
      if (due > pacedIds.length) {
        const raws = envelopes(pacedRun, due - pacedIds.length);
        pacedIds.push(...raws.map((raw) => raw.envelope.messageId));
        await ingest(pacedRun, raws, handedPaced);
      }
      await sleep(Math.max(0, 10 - ((now() - pacedStart) % 10)));
    }
    const pacedSeconds = (now() - pacedStart) / 1000;
    await waitAll([pacedFollower], pacedIds.map((id) => [0, id]), 120_000);

    return {
      setup,
      workers,
      oneRun: {
        envelopes: ONE_RUN,
        canonicalEventsPerSecond: Math.round(oneFollower.counts.canonical / oneSeconds),
        envelopesPerSecond: Math.round(ONE_RUN / oneSeconds),
        missingAtSse: oneRaws.filter((raw) => !oneFollower.arrivals.has(raw.envelope.messageId)).length,
      },
      concurrentRuns: {
        runs: many.length,
        envelopes: manyIds.length,
        canonicalEventsPerSecond: Math.round(manyCanonical / manySeconds),
        envelopesPerSecond: Math.round(manyIds.length / manySeconds),
        handedToSse: summary(manyIds.filter(([index, id]) => followers[index].arrivals.has(id)).map(([index, id]) => followers[index].arrivals.get(id) - handedMany.get(id))),
        missingAtSse: manyIds.filter(([index, id]) => !followers[index].arrivals.has(id)).length,
      },
      paced: {
        targetPerSecond: RATE,
        achievedPerSecond: Math.round(pacedIds.length / pacedSeconds),
        handedToSse: summary(pacedIds.filter((id) => pacedFollower.arrivals.has(id)).map((id) => pacedFollower.arrivals.get(id) - handedPaced.get(id))),
        missingAtSse: pacedIds.filter((id) => !pacedFollower.arrivals.has(id)).length,
      },
    };
  } finally {
    await cp.close();
    await Promise.all(children.map((child) => child.stop()));
    await db.query(`drop schema if exists "${schema}" cascade`);
    await db.end();
    if (nats) {
      // The NATS client comes with the control plane (the bench package does not depend on it).
      const fromControlPlane = createRequire(fileURLToPath(new URL("../../services/control-plane/package.json", import.meta.url)));
      const { connect } = await import(pathToFileURL(fromControlPlane.resolve("@nats-io/transport-node")).href);
      const { jetstreamManager } = await import(pathToFileURL(fromControlPlane.resolve("@nats-io/jetstream")).href);
      const nc = await connect({ servers: NATS_URL });
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) if (name.includes(prefix)) await jsm.streams.delete(name).catch(() => false);
      await nc.close();
    }
  }
}

async function main() {
  const loadAverageAtStart = loadavg().map((load) => Math.round(load * 100) / 100);
  const runtime = spawnProcess(RUNTIME_BIN, { MACP_ALLOW_INSECURE: "1", MACP_BIND_ADDR: "127.0.0.1:0", MACP_MEMORY_ONLY: "1", MACP_METRICS_ADDR: "off", MACP_LOG_LEVEL: "silent", MACP_SESSION_START_LIMIT_PER_MINUTE: "1000000", MACP_MESSAGE_LIMIT_PER_MINUTE: "100000000" }, /listening on (\S+)/);
  const address = await runtime.started;
  const setups = [];
  try {
    for (const setup of SETUPS) setups.push(await runSetup(setup, address));
  } finally {
    await runtime.stop();
  }
  const base = setups.find((item) => item.setup === "memory");
  const ratio = (item, pick) => (base ? Number((pick(item) / pick(base)).toFixed(2)) : null);
  process.stdout.write(
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        loadAverageAtStart,
        loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
        node: process.version,
        settings: { ONE_RUN, RUNS, PER_RUN, BATCH, RATE, PACED_SECONDS, PARTITIONS },
        setups,
        ratiosToInProcessBus: setups.map((item) => ({
          setup: item.setup,
          oneRunEvents: ratio(item, (x) => x.oneRun.canonicalEventsPerSecond),
          concurrentRunsEvents: ratio(item, (x) => x.concurrentRuns.canonicalEventsPerSecond),
          pacedP99: ratio(item, (x) => x.paced.handedToSse.p99Ms ?? Number.NaN),
        })),
      },
      null,
      2,
    )}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
