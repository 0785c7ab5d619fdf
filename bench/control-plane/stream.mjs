// Control-plane live stream: latency from the runtime accepting an envelope to an SSE client of
// the control plane receiving its `message.received` event, at a paced rate into one run; the rate
// at which one run ingests a burst sent through the runtime; and the control plane's own ingest
// capacity for one run (envelopes handed to its ingest sink as fast as it takes them, with an SSE
// client attached). Baseline in the same run: a passive StreamSession subscriber on the runtime
// itself (what the control plane's ingest reads). Envelopes are `ext.multi_round.v1` Contribute
// messages (flat per-message cost in the runtime; carol never contributes, so the session never
// converges). Prints JSON.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { buildEnvelope, createMacpClient } from "@macp/client";
import { loadConfig, startControlPlane } from "@macp/control-plane";
import pg from "pg";

const MODE = "ext.multi_round.v1";
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const PACED_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BURST = Number(process.env.BENCH_BURST ?? 2000);
const SINK_BURST = Number(process.env.BENCH_SINK_BURST ?? 5000);
const SINK_BATCH = Number(process.env.BENCH_SINK_BATCH ?? 500);
const SINK_SINGLE = Number(process.env.BENCH_SINK_SINGLE ?? 300);
const MAX_IN_FLIGHT = 64;
const BURST_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 128);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const STORE = process.env.BENCH_STORE ?? "postgres";

// The runtime daemon's built binary (run `npx -y pnpm@10 run build` first).
const RUNTIME_BIN = fileURLToPath(new URL("../node_modules/@macp/runtime/dist/main.js", import.meta.url));

async function spawnRuntime() {
  const child = spawn(process.execPath, [RUNTIME_BIN], {
    env: {
      PATH: process.env.PATH ?? "",
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_MEMORY_ONLY: "1",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "1000000",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "100000000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const address = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`runtime exited with ${code}: ${output}`)));
  });
  return { address, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.on("exit", resolve), child.kill("SIGTERM")))) };
}

/** Reads an SSE response; calls onFrame(event, data) per frame. */
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

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? null };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const loadAverageAtStart = loadavg().map((load) => Math.round(load * 100) / 100);
  const runtime = await spawnRuntime();
  const schema = `bench_stream_${Date.now()}`;
  const config = loadConfig({
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    RUNTIME_ADDRESS: runtime.address,
    ...(STORE === "postgres" ? { DATABASE_URL, DATABASE_SCHEMA: schema } : { DATA_DIR: "memory" }),
  });
  const cp = await startControlPlane(config);
  const clients = { alice: createMacpClient({ address: runtime.address, auth: { bearer: "alice" } }), bob: createMacpClient({ address: runtime.address, auth: { bearer: "bob" } }) };
  try {
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
        const run = await fetch(`${cp.url}/runs/${created.runId}`).then((response) => response.json());
        if (run.status === "running") return created;
        if (["failed", "cancelled", "completed"].includes(run.status)) throw new Error(`run ${run.status}: ${run.errorMessage}`);
        await sleep(50);
      }
    };
    /** An SSE client from the run's first event: arrival wall-clock times (ms) per messageId. */
    const follow = async (runId) => {
      const arrivals = new Map();
      const counts = { canonical: 0 };
      const response = await fetch(`${cp.url}/runs/${runId}/stream?afterSeq=0&includeSnapshot=false`, { headers: { accept: "text/event-stream" } });
      const done = readSse(response, (event, data) => {
        if (event !== "canonical_event") return;
        counts.canonical += 1;
        const parsed = JSON.parse(data);
        if (parsed.type === "message.received") arrivals.set(parsed.data.messageId, performance.timeOrigin + performance.now());
      }).catch(() => undefined);
      return { arrivals, counts, done };
    };
    const { runId, sessionId } = await launch();
    const live = await follow(runId);
    const viaSse = live.arrivals;
    const viaRuntime = new Map();
    const subscriber = clients.bob.streamSession({ auth: { bearer: "bob" } });
    subscriber.subscribe(sessionId, 0);
    const subscriberDone = (async () => {
      for await (const frame of subscriber) {
        if (frame.response?.$case === "envelope") viaRuntime.set(frame.response.value.messageId, performance.timeOrigin + performance.now());
      }
    })().catch(() => undefined);

    const accepted = new Map();
    let counter = 0;
    const sendOne = async () => {
      counter += 1;
      const sender = counter % 2 === 0 ? "alice" : "bob";
      const messageId = randomUUID();
      const envelope = buildEnvelope({ mode: MODE, sessionId, messageType: "Contribute", messageId, payload: new TextEncoder().encode(JSON.stringify({ value: `v${counter}` })) });
      const { ack } = await clients[sender].send({ envelope });
      if (!ack?.ok) throw new Error(`refused: ${ack?.error?.code} ${ack?.error?.message}`);
      accepted.set(messageId, Number(ack.acceptedAtUnixMs));
      return messageId;
    };
    const waitSeen = async (ids, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !viaSse.has(id)) && Date.now() < deadline) await sleep(20);
    };

    // Paced phase: RATE envelopes/s, sent in ticks of 10 ms.
    const pacedIds = [];
    const inFlight = [];
    const started = performance.now();
    const total = RATE * PACED_SECONDS;
    while (pacedIds.length + inFlight.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      while (pacedIds.length + inFlight.length < due && inFlight.length < MAX_IN_FLIGHT) inFlight.push(sendOne());
      if (inFlight.length > 0) pacedIds.push(...(await Promise.all(inFlight.splice(0))));
      await sleep(Math.max(0, 10 - ((performance.now() - started) % 10)));
    }
    pacedIds.push(...(await Promise.all(inFlight.splice(0))));
    const pacedSeconds = (performance.now() - started) / 1000;
    await waitSeen(pacedIds, 120_000);
    const latency = (arrivals) => summary(pacedIds.filter((id) => arrivals.has(id)).map((id) => arrivals.get(id) - accepted.get(id)));

    // Burst phase: BURST envelopes as fast as BURST_CONCURRENCY senders go.
    const framesBefore = live.counts.canonical;
    const burstIds = [];
    const burstStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: BURST_CONCURRENCY }, async () => {
        while (next < BURST) {
          next += 1;
          burstIds.push(await sendOne());
        }
      }),
    );
    const acceptSeconds = (performance.now() - burstStart) / 1000;
    await waitSeen(burstIds, 600_000);
    const lastArrival = Math.max(...burstIds.map((id) => viaSse.get(id) ?? Number.NaN));
    const firstAccept = Math.min(...burstIds.map((id) => accepted.get(id)));
    const ingestSeconds = (lastArrival - firstAccept) / 1000;
    const runtimeLast = Math.max(...burstIds.map((id) => viaRuntime.get(id) ?? Number.NaN));
    const burstFrames = live.counts.canonical - framesBefore;

    // Control-plane capacity, with an SSE client attached: envelopes handed to the ingest sink of a
    // run one publication each (the baseline), then of another run in batches (`ingestBatch`, what
    // the session consumer does under load); the projector behind the bus batches what it finds.
    const capacityPhase = async (count, batchSize) => {
      const target = await launch();
      const capacity = await follow(target.runId);
      await sleep(200);
      const capacityBefore = capacity.counts.canonical;
      const sinkIds = [];
      // When ingest returned: on the bus (the projector commits and publishes after).
      const committed = new Map();
      // Envelopes are numbered from the run's stored runtime cursor (its SessionStart is stored):
      // a position taken already would be dropped by the bus's deduplication.
      const storedCursor = async () => (await cp.context.database.db.selectFrom("runtime_sessions").select("last_runtime_seq").where("run_id", "=", target.runId).executeTakeFirst())?.last_runtime_seq ?? 0;
      while ((await storedCursor()) < 1) await sleep(20);
      let cursor = await storedCursor();
      const sinkStart = performance.now();
      for (let first = 0; first < count; first += batchSize) {
        const raws = [];
        for (let index = first; index < Math.min(count, first + batchSize); index += 1) {
          const messageId = randomUUID();
          sinkIds.push(messageId);
          const envelope = buildEnvelope({ mode: MODE, sessionId: target.sessionId, messageType: "Contribute", messageId, sender: index % 2 ? "alice" : "bob", payload: new TextEncoder().encode(JSON.stringify({ value: `v${index}` })) });
          raws.push({ kind: "stream-envelope", envelope, runtimeSequence: 1_000_000 + index, receivedAt: new Date().toISOString() });
        }
        // The sink publishes to the bus; the projector stores each publication as it comes.
        cursor = (await cp.context.sink.ingestBatch(target.runId, raws, cursor)).runtimeCursor;
        const now = performance.timeOrigin + performance.now();
        for (const raw of raws) committed.set(raw.envelope.messageId, now);
      }
      const sinkSeconds = (performance.now() - sinkStart) / 1000;
      const sinkDeadline = Date.now() + 600_000;
      while (sinkIds.some((id) => !capacity.arrivals.has(id)) && Date.now() < sinkDeadline) await sleep(20);
      const sinkDeliveredSeconds = (Math.max(...sinkIds.map((id) => capacity.arrivals.get(id) ?? Number.NaN)) - (performance.timeOrigin + sinkStart)) / 1000;
      return {
        envelopes: count,
        batchSize,
        ingestedEnvelopesPerSecond: Math.round(count / sinkSeconds),
        canonicalEventsPerSecond: Math.round((capacity.counts.canonical - capacityBefore) / sinkDeliveredSeconds),
        deliveredToSseEnvelopesPerSecond: Math.round(count / sinkDeliveredSeconds),
        handedToSse: summary(sinkIds.filter((id) => capacity.arrivals.has(id)).map((id) => capacity.arrivals.get(id) - committed.get(id))),
        missingAtSse: sinkIds.filter((id) => !capacity.arrivals.has(id)).length,
      };
    };
    const controlPlaneIngestOneByOne = await capacityPhase(SINK_SINGLE, 1);
    const controlPlaneIngest = await capacityPhase(SINK_BURST, SINK_BATCH);

    const result = {
      date: new Date().toISOString(),
      loadAverageAtStart,
      loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
      node: process.version,
      store: STORE,
      paced: {
        targetPerSecond: RATE,
        envelopes: pacedIds.length,
        achievedPerSecond: Math.round(pacedIds.length / pacedSeconds),
        acceptToControlPlaneSse: latency(viaSse),
        baselineAcceptToRuntimeSubscriber: latency(viaRuntime),
        // What the control plane adds on top of the runtime's own delivery: SSE arrival minus the
        // baseline subscriber's arrival of the same envelope (both on this process's clock).
        controlPlaneAddedOverRuntimeSubscriber: summary(pacedIds.filter((id) => viaSse.has(id) && viaRuntime.has(id)).map((id) => viaSse.get(id) - viaRuntime.get(id))),
        missingAtSse: pacedIds.filter((id) => !viaSse.has(id)).length,
      },
      burst: {
        envelopes: BURST,
        concurrency: BURST_CONCURRENCY,
        runtimeAcceptedPerSecond: Math.round(BURST / acceptSeconds),
        baselineRuntimeSubscriberPerSecond: Math.round(BURST / ((runtimeLast - firstAccept) / 1000)),
        ingestedEnvelopesPerSecond: Math.round(BURST / ingestSeconds),
        canonicalEventsPerSecond: Math.round(burstFrames / ingestSeconds),
        canonicalEventsPerEnvelope: Number((burstFrames / BURST).toFixed(2)),
        missingAtSse: burstIds.filter((id) => !viaSse.has(id)).length,
      },
      controlPlaneIngestOneByOne,
      controlPlaneIngest,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    subscriber.cancel();
    await Promise.race([live.done, sleep(10)]);
    await Promise.race([subscriberDone, sleep(10)]);
  } finally {
    clients.alice.close();
    clients.bob.close();
    await cp.close();
    await runtime.stop();
    if (STORE === "postgres") {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
