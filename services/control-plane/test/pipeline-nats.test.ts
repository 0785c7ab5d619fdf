import { randomUUID } from "node:crypto";
import { emptyRunState, foldEvents } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import { NatsBus, PartitionProjector, ProjectionRunner, RunLifecycle, createProjectorMetrics, metricsObserver } from "@macp/pipeline";
import { natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { openSse } from "./support/sse-client.js";
import { waitFor } from "./support/wait.js";
import { commitmentMessage as commitment, modeMessage as message, sendAccepted as accepted } from "./support/agent-messages.js";

const DECISION = "macp.mode.decision.v1";
const PARTITIONS = 4;

/**
 * Two control-plane instances on one Postgres schema and one JetStream bus (own prefix), with the
 * projector running apart from both (as the projection worker does): instance A drives and
 * ingests the run, instance B serves its live stream and reads.
 */
describe("the event pipeline on NATS JetStream across control-plane instances", () => {
  const schema = freshSchema();
  const prefix = uniqueName("cpbus");
  const logger = pino({ level: "silent" });
  let runtime: RuntimeDaemon;
  let a: TestControlPlane;
  let b: TestControlPlane;
  let bus: NatsBus;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    runtime = await spawnRuntime();
    const env = {
      RUNTIME_ADDRESS: runtime.address,
      DATABASE_SCHEMA: schema,
      NATS_URL: natsUrl(),
      BUS_PREFIX: prefix,
      BUS_PARTITIONS: String(PARTITIONS),
      STREAM_BACKOFF_BASE_MS: "20",
      STREAM_BACKOFF_MAX_MS: "200",
      STREAM_HEARTBEAT_MS: "200",
    };
    a = await startTestControlPlane("postgres", env);
    b = await startTestControlPlane("postgres", { ...env, RUN_RECOVERY_ENABLED: "false" });
    bus = await NatsBus.connect({ url: natsUrl(), prefix, partitions: PARTITIONS, dedupeWindowMs: 60_000, name: "test projector" });
    const db = a.handle.context.database.db;
    // The projector's updates reach the instances after a random network-like delay, so they
    // interleave out of seq order with the instances' own transitions and with each other.
    const lifecycle = new RunLifecycle({ publish: (update) => void setTimeout(() => void bus.publishEvents(update), Math.random() * 40) }, { inc: () => undefined });
    const observer = metricsObserver(createProjectorMetrics(new Registry()));
    runner = new ProjectionRunner(
      bus,
      () => {
        const projector = new PartitionProjector(db, lifecycle, observer);
        return (batch) => projector.handle(batch);
      },
      { owner: randomUUID(), leaseTtlMs: 3_000, maxPartitions: PARTITIONS },
      logger,
    );
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await bus?.close();
    await b?.close();
    await a?.close();
    await runtime?.stop();
    await dropSchema(schema);
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`, `${prefix}_WEBHOOKS`, `${prefix}_WEBHOOKS_DEAD`]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it("a run driven by one instance and projected apart is complete, in runtime order and streamed live by both instances exactly once and in order, its projection equal to the fold", { timeout: 180_000 }, async () => {
    const created = await a.request("POST", "/runs", {
      body: {
        mode: "live",
        runtime: { kind: "rust" },
        session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
        kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
      },
    });
    expect(created.status).toBe(201);
    const { runId, sessionId } = created.body;
    // Live from the start on both instances: A publishes its transitions, the projector the rest.
    const live = await Promise.all([a, b].map((instance) => openSse(`${instance.url}/runs/${runId}/stream?afterSeq=0&includeSnapshot=false`)));
    const liveFrames = live.map((connection) => connection.until((frame) => frame.event === "run_terminal"));
    await waitFor(`run ${runId} running`, async () => ((await b.request("GET", `/runs/${runId}`)).body.status === "running" ? true : undefined), 90_000);
    await accepted(runtime.client("bob"), message(DECISION, sessionId, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "ok" }));
    await accepted(runtime.client("bob"), message(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "ok" }));
    await accepted(runtime.client("alice"), commitment(DECISION, sessionId, "decision.selected"));
    // B learns the end from the events the projector published on the bus.
    await waitFor(`run ${runId} completed`, async () => ((await b.request("GET", `/runs/${runId}`)).body.status === "completed" ? true : undefined), 90_000);
    const replayed = await (await openSse(`${b.url}/runs/${runId}/stream?includeSnapshot=false`)).until((frame) => frame.event === "run_terminal");
    expect(replayed.at(-1)?.data).toMatchObject({ runId, status: "completed" });

    const events: CanonicalEvent[] = (await b.request("GET", `/runs/${runId}/events?limit=1000`)).body.data;
    const seen = replayed.filter((frame) => frame.event === "canonical_event").map((frame) => Number(frame.id));
    expect(seen).toEqual(events.map((event) => event.seq));
    for (const frames of await Promise.all(liveFrames)) {
      expect(frames.filter((frame) => frame.event === "canonical_event").map((frame) => Number(frame.id))).toEqual(events.map((event) => event.seq));
      expect(frames.at(-1)?.data).toMatchObject({ runId, status: "completed" });
    }
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const received = events.filter((event) => event.type === "message.received").map((event) => (event.data as { messageType: string }).messageType);
    expect(received).toEqual(["SessionStart", "Proposal", "Evaluation", "Vote", "Commitment"]);
    expect(events.at(-1)?.type).toBe("run.completed");
    const state = (await b.request("GET", `/runs/${runId}/state`)).body;
    expect(state).toEqual(JSON.parse(JSON.stringify(foldEvents(emptyRunState(runId), events))));
    // Everything the projector was handed is acknowledged: nothing waits in the work queue.
    const pending = await Promise.all(Array.from({ length: PARTITIONS }, (_, partition) => bus.pendingRaw(partition)));
    expect(pending.reduce((sum, count) => sum + count, 0)).toBe(0);
  });
});

/**
 * Ingest ownership on JetStream: a run's lease lives in the bus's KV bucket, so of two instances
 * on one bus exactly one follows the run's session; when it stops, the other takes the run over
 * and resumes from the stored runtime cursor.
 */
describe("run ingest ownership through the bus's lease bucket", () => {
  const schema = freshSchema();
  const prefix = uniqueName("cpown");
  let runtime: RuntimeDaemon;
  let first: TestControlPlane;
  let second: TestControlPlane;
  let bus: NatsBus;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    runtime = await spawnRuntime();
    const env = {
      RUNTIME_ADDRESS: runtime.address,
      DATABASE_SCHEMA: schema,
      NATS_URL: natsUrl(),
      BUS_PREFIX: prefix,
      BUS_PARTITIONS: "2",
      RUN_LEASE_TTL_MS: "1500",
      STREAM_BACKOFF_BASE_MS: "20",
      STREAM_BACKOFF_MAX_MS: "200",
      RUNTIME_CIRCUIT_BREAKER_RESET_MS: "200",
    };
    first = await startTestControlPlane("postgres", env);
    second = await startTestControlPlane("postgres", env);
    bus = await NatsBus.connect({ url: natsUrl(), prefix, partitions: 2, dedupeWindowMs: 60_000, name: "test projector" });
    const db = second.handle.context.database.db;
    const lifecycle = new RunLifecycle({ publish: (update) => void bus.publishEvents(update) }, { inc: () => undefined });
    const observer = metricsObserver(createProjectorMetrics(new Registry()));
    runner = new ProjectionRunner(
      bus,
      () => {
        const projector = new PartitionProjector(db, lifecycle, observer);
        return (batch) => projector.handle(batch);
      },
      { owner: randomUUID(), leaseTtlMs: 3_000, maxPartitions: 2 },
      pino({ level: "silent" }),
    );
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await bus?.close();
    await first?.close();
    await second?.close();
    await runtime?.stop();
    await dropSchema(schema);
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it("lets one instance follow a run at a time and hands it over when that instance stops", { timeout: 180_000 }, async () => {
    const created = await first.request("POST", "/runs", {
      body: {
        mode: "live",
        runtime: { kind: "rust" },
        session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
        kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
      },
    });
    expect(created.status).toBe(201);
    const { runId, sessionId } = created.body;
    await waitFor(`run ${runId} running`, async () => ((await second.request("GET", `/runs/${runId}`)).body.status === "running" ? true : undefined), 90_000);
    const opened = async (): Promise<string[]> =>
      (await second.request("GET", `/runs/${runId}/events?type=session.stream.opened`)).body.data.map((event: { data: { status: string } }) => event.data.status);
    await waitFor("the stream opened", async () => ((await opened()).length > 0 ? true : undefined), 90_000);
    // Several lease periods pass; the second instance must not start following the run meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await opened()).toEqual(["opened"]);

    await first.close();
    await waitFor("the second instance to take the run over", async () => ((await opened()).includes("recovered") ? true : undefined), 90_000);
    await accepted(runtime.client("bob"), message(DECISION, sessionId, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "ok" }));
    await waitFor("the Evaluation", async () => {
      const received = (await second.request("GET", `/runs/${runId}/events?type=message.received`)).body.data;
      return received.length === 3 ? received : undefined;
    }, 90_000);
    expect(await opened()).toEqual(["opened", "recovered"]);
  });
});
