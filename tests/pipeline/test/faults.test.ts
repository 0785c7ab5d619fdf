import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { buildEnvelope, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { emptyRunState, foldEvents } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import { partitionOf } from "@macp/pipeline";
import { databaseUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, spawnChild, waitFor } from "./support/processes.js";
import type { Child } from "./support/processes.js";
import { followRun } from "./support/sse-follower.js";
import type { FollowResult } from "./support/sse-follower.js";

// Two control planes and two projection workers as child processes on a NATS server of this file's
// own (JetStream store in a scratch dir, so it can be restarted) and a database of its own, with
// the runtime daemon. Runs emit envelopes steadily while each kind of process is killed -9 in turn
// (the control plane holding a run's ingest, the worker holding its partition) and restarted, and
// NATS itself is restarted. Afterwards nothing may be missing, doubled or out of runtime order.

const MODE = "ext.multi_round.v1";
const RUNS = 3;
const PARTITIONS = 4;
const LEASE_TTL_MS = 1_500;
/** Pause between envelopes of one run's agents. */
const SEND_EVERY_MS = 25;
const TERMINAL_EVENTS = new Set(["run.completed", "run.failed", "run.cancelled"]);

const database = uniqueName("pipeline_faults");
const prefix = uniqueName("pf");
const scratch = mkdtempSync(join(tmpdir(), "macp-pipeline-faults-"));
const decoder = new TextDecoder();

function ownDatabaseUrl(): string {
  const url = new URL(databaseUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

// Response bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** One control plane or worker slot: restarted on the same port with a new process (and a new lease owner id). */
interface Slot {
  readonly name: string;
  readonly port: number;
  process: Child | undefined;
  /** Lease owner id of the current process. */
  owner: string | undefined;
}

let natsPort: number;
let nats: Child | undefined;
let runtime: Child | undefined;
let runtimeAddress: string;
const controlPlanes: Slot[] = [];
const workers: Slot[] = [];

async function startNats(): Promise<void> {
  nats = spawnChild("nats-server", "nats-server", ["-js", "-sd", join(scratch, "jetstream"), "-a", "127.0.0.1", "-p", String(natsPort), "--server_name", prefix], {});
  await nats.printed(/Server is ready/);
}

const natsUrl = (): string => `nats://127.0.0.1:${natsPort}`;
const busEnv = (): Record<string, string> => ({
  DATABASE_URL: ownDatabaseUrl(),
  NATS_URL: natsUrl(),
  BUS_PREFIX: prefix,
  BUS_PARTITIONS: String(PARTITIONS),
  PARTITION_LEASE_TTL_MS: String(LEASE_TTL_MS),
  BUS_ACK_WAIT_MS: "5000",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
});

async function startControlPlane(slot: Slot): Promise<void> {
  const child = spawnChild(slot.name, "services/control-plane/dist/main.js", [], {
    ...busEnv(),
    NODE_ENV: "development",
    PORT: String(slot.port),
    RUNTIME_ADDRESS: runtimeAddress,
    RUN_LEASE_TTL_MS: String(LEASE_TTL_MS),
    STREAM_BACKOFF_BASE_MS: "50",
    STREAM_BACKOFF_MAX_MS: "500",
    STREAM_HEARTBEAT_MS: "500",
    THROTTLE_LIMIT: "1000000",
    RUNTIME_CIRCUIT_BREAKER_RESET_MS: "200",
    VIEWER_ASSETS_DIR: "off",
  });
  slot.process = child;
  slot.owner = (await child.printed(/"instance":"([0-9a-f-]{36})"/, 120_000))[1];
  await waitFor(`${slot.name} ready`, async () => ((await fetch(`${baseOf(slot)}/readyz`)).status === 200 ? true : undefined), 60_000);
}

async function startWorker(slot: Slot): Promise<void> {
  const child = spawnChild(slot.name, "services/projection-worker/dist/main.js", [], { ...busEnv(), PORT: String(slot.port), LAG_POLL_MS: "1000" });
  slot.process = child;
  slot.owner = (await child.printed(/MACP projection worker (\S+) serving/, 60_000))[1];
}

const baseOf = (slot: Slot): string => `http://127.0.0.1:${slot.port}`;
const bases = (): string[] => controlPlanes.map(baseOf);

/** Lease owner of `key` right now, read from the lease bucket (undefined when free or expired). */
async function leaseOwner(kv: KV, key: string): Promise<string | undefined> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== "PUT") return undefined;
  const lease = JSON.parse(decoder.decode(entry.value)) as { owner: string; expiresAt: number };
  return lease.expiresAt > Date.now() ? lease.owner : undefined;
}

interface Run {
  readonly runId: string;
  readonly sessionId: string;
  /** Message ids of the envelopes the runtime accepted for the session, in its order (a passive subscriber's view). */
  readonly runtimeOrder: string[];
  follower: Promise<FollowResult>;
  subscriber: ReturnType<MacpClient["streamSession"]>;
  subscribed: Promise<void>;
}

/** Sends Contribute envelopes as alice and bob in turn until `signal` aborts (carol never contributes: the session stays open). */
async function contribute(client: { alice: MacpClient; bob: MacpClient }, sessionId: string, signal: AbortSignal): Promise<number> {
  let sent = 0;
  while (!signal.aborted) {
    const sender = sent % 2 === 0 ? client.alice : client.bob;
    const envelope = buildEnvelope({ mode: MODE, sessionId, messageType: "Contribute", messageId: randomUUID(), payload: new TextEncoder().encode(JSON.stringify({ value: `v${sent}` })) });
    const { ack } = await sender.send({ envelope });
    if (!ack?.ok) throw new Error(`Contribute refused: ${ack?.error?.code} ${ack?.error?.message}`);
    sent += 1;
    await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
  }
  return sent;
}

/** Every stored canonical event of a run, page by page. */
async function storedEvents(base: string, runId: string): Promise<CanonicalEvent[]> {
  const events: CanonicalEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await api(base, "GET", `/runs/${runId}/events?afterSeq=${after}&limit=1000`);
    expect(page.status).toBe(200);
    events.push(...(page.body.data as CanonicalEvent[]));
    if (page.body.nextCursor === null) return events;
    after = Number(page.body.nextCursor);
  }
}

describe("the event pipeline when any of its processes dies during runs", () => {
  let nc: NatsConnection;
  let kv: KV;
  const clients: MacpClient[] = [];

  beforeAll(async () => {
    await admin(`create database "${database}"`);
    natsPort = await freePort();
    await startNats();
    runtime = spawnChild("runtime", "services/runtime/dist/main.js", [], {
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_MEMORY_ONLY: "1",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "100000",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "10000000",
    });
    runtimeAddress = (await runtime.printed(/listening on (\S+)/))[1] as string;
    for (const name of ["control-plane-1", "control-plane-2"]) controlPlanes.push({ name, port: await freePort(), process: undefined, owner: undefined });
    for (const name of ["projection-worker-1", "projection-worker-2"]) workers.push({ name, port: await freePort(), process: undefined, owner: undefined });
    // The first instance migrates the schema before the others start.
    await startControlPlane(controlPlanes[0] as Slot);
    await Promise.all([startControlPlane(controlPlanes[1] as Slot), ...workers.map(startWorker)]);
    nc = await connect({ servers: natsUrl(), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    kv = await new Kvm(nc).open(`${prefix}_leases`);
  }, 300_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await nc?.close().catch(() => undefined);
    for (const slot of [...controlPlanes, ...workers]) await slot.process?.kill("SIGKILL");
    await runtime?.kill("SIGKILL");
    await nats?.kill("SIGKILL");
    await admin(`drop database if exists "${database}" with (force)`);
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it(
    "loses, doubles and reorders nothing through kill -9 of the ingesting control plane and the projecting worker and a NATS restart; SSE clients resuming with Last-Event-ID see every event once",
    { timeout: 600_000 },
    async () => {
      const client = (bearer: string): MacpClient => {
        const created = createMacpClient({ address: runtimeAddress, auth: { bearer }, defaultDeadlineMs: 30_000 });
        clients.push(created);
        return created;
      };
      const agents = { alice: client("alice"), bob: client("bob") };
      const observer = client("carol");
      const runs: Run[] = [];
      const stopFollowing = new AbortController();
      for (let index = 0; index < RUNS; index++) {
        const base = bases()[index % 2] as string;
        const created = await api(base, "POST", "/runs", {
          mode: "live",
          runtime: { kind: "rust" },
          session: { modeName: MODE, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 3_600_000, initiatorParticipantId: "alice", participants: [{ id: "alice" }, { id: "bob" }, { id: "carol" }] },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const { runId, sessionId } = created.body;
        await waitFor(`run ${runId} running`, async () => ((await api(base, "GET", `/runs/${runId}`)).body.status === "running" ? true : undefined), 120_000);
        const runtimeOrder: string[] = [];
        const subscriber = observer.streamSession();
        subscriber.subscribe(sessionId, 0);
        const subscribed = (async () => {
          for await (const frame of subscriber) if (frame.response?.$case === "envelope") runtimeOrder.push(frame.response.value.messageId);
        })();
        runs.push({ runId, sessionId, runtimeOrder, subscriber, subscribed, follower: followRun(runId, bases, index, stopFollowing.signal) });
      }
      const sending = new AbortController();
      const senders = runs.map((run) => contribute(agents, run.sessionId, sending.signal));
      const traffic = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const figures: Record<string, number> = {};
      const [watched] = runs as [Run];

      await traffic(3_000);
      // 1. kill -9 the control plane ingesting the first run; the other takes the run over.
      const ingester = await waitFor("the first run's ingest lease", async () => {
        const owner = await leaseOwner(kv, `run.${watched.runId}`);
        return controlPlanes.find((slot) => slot.owner === owner);
      });
      const cpKilledAt = Date.now();
      await ingester.process?.kill("SIGKILL");
      const survivor = controlPlanes.find((slot) => slot !== ingester) as Slot;
      await waitFor("the other control plane to take the run's ingest over", async () => ((await leaseOwner(kv, `run.${watched.runId}`)) === survivor.owner ? true : undefined), 60_000);
      figures.ingestTakeoverMs = Date.now() - cpKilledAt;
      await traffic(1_000);
      await startControlPlane(ingester);

      await traffic(2_000);
      // 2. kill -9 the worker projecting the first run's partition; the other takes the partition over.
      const partitionKey = `partition.${partitionOf(watched.runId, PARTITIONS)}`;
      const projecting = await waitFor("the first run's partition lease", async () => {
        const owner = await leaseOwner(kv, partitionKey);
        return workers.find((slot) => slot.owner === owner);
      });
      const workerKilledAt = Date.now();
      await projecting.process?.kill("SIGKILL");
      const otherWorker = workers.find((slot) => slot !== projecting) as Slot;
      await waitFor("the other worker to take the partition over", async () => ((await leaseOwner(kv, partitionKey)) === otherWorker.owner ? true : undefined), 60_000);
      figures.partitionTakeoverMs = Date.now() - workerKilledAt;
      await traffic(1_000);
      await startWorker(projecting);

      await traffic(2_000);
      // 3. Restart NATS (same store): every consumer, subscription and lease client reconnects.
      const natsStoppedAt = Date.now();
      await nats?.kill("SIGTERM");
      await traffic(1_000);
      await startNats();
      figures.natsDownMs = Date.now() - natsStoppedAt;
      await traffic(3_000);

      sending.abort();
      const sent = await Promise.all(senders);
      figures.envelopesSent = sent.reduce((sum, count) => sum + count, 0);
      // The runtime flushes every accepted envelope to a half-closed subscriber, then ends it.
      for (const run of runs) run.subscriber.end();
      await Promise.all(runs.map((run) => run.subscribed));

      // Everything the runtime accepted reaches the store (ingest resumed from the stored cursor after each fault).
      const caughtUpAt = Date.now();
      for (const run of runs) {
        await waitFor(`run ${run.runId} ingested to the end`, async () => {
          const received = (await api(bases()[0] as string, "GET", `/runs/${run.runId}/events?type=message.received&limit=1`)).body.total;
          return received === run.runtimeOrder.length ? true : undefined;
        }, 180_000);
      }
      figures.catchUpMs = Date.now() - caughtUpAt;
      for (const run of runs) expect((await api(bases()[1] as string, "POST", `/runs/${run.runId}/cancel`, { reason: "fault test done" })).status).toBe(200);
      const followed = await Promise.race([
        Promise.all(runs.map((run) => run.follower)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("SSE clients did not see every run end")), 120_000)),
      ]);
      stopFollowing.abort();

      for (const [index, run] of runs.entries()) {
        const events = await storedEvents(bases()[index % 2] as string, run.runId);
        // Complete, without duplicates, in the runtime's order.
        const received = events.filter((event) => event.type === "message.received").map((event) => (event.data as { messageId: string }).messageId);
        expect(received, `run ${index}: message.received in runtime order`).toEqual(run.runtimeOrder);
        const seqs = events.map((event) => event.seq);
        expect(seqs, `run ${index}: seqs increasing`).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
        // The stored projection equals a fresh fold of the stored events.
        const state = (await api(bases()[(index + 1) % 2] as string, "GET", `/runs/${run.runId}/state`)).body;
        expect(state, `run ${index}: projection`).toEqual(JSON.parse(JSON.stringify(foldEvents(emptyRunState(run.runId), events))));
        // The SSE client, through every reconnection, saw each event exactly once, in order, up to
        // the run's terminal event, where the server ends the stream (what the cancelled session's
        // lifecycle adds after it is stored, not streamed).
        const terminalAt = events.findIndex((event) => TERMINAL_EVENTS.has(event.type));
        expect(terminalAt, `run ${index}: terminal event`).toBeGreaterThan(0);
        const follow = followed[index] as FollowResult;
        expect(follow.terminal).toBe(true);
        expect(follow.seen, `run ${index}: SSE`).toEqual(seqs.slice(0, terminalAt + 1));
        figures[`run${index}Events`] = events.length;
        figures[`run${index}EventsAfterTerminal`] = events.length - terminalAt - 1;
        if (terminalAt + 1 < events.length) console.log(`run ${index} events after its terminal event: ${events.slice(terminalAt + 1).map((event) => event.type).join(", ")}`);
        figures[`run${index}SseReconnects`] = follow.reconnects;
      }
      // The stream status events show the takeover of the first run's ingest.
      const statuses = (await storedEvents(bases()[0] as string, watched.runId)).filter((event) => event.type === "session.stream.opened").map((event) => (event.data as { status: string }).status);
      expect(statuses).toContain("recovered");
      // Every raw record was acknowledged: the work queue is empty.
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(`${prefix}_RAW`)).state.messages).toBe(0);
      console.log(`pipeline fault figures ${JSON.stringify(figures)}`);
    },
  );
});
