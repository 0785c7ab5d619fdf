import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { buildEnvelope, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { SessionState, encodePayloadJson } from "@macp/protocol";
import { databaseUrl, natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthy, planServices, readCompose, scratchDir, startOrder, startService } from "./support/compose-stack.js";
import type { ServicePlan, ServiceProcess } from "./support/compose-stack.js";
import { waitFor } from "./support/wait.js";

// The services of deploy/docker-compose.yml that this repository builds, started as separate
// processes with the images' commands and compose's environment (support/compose-stack.ts), on
// this machine's Postgres (a database of this file's own) and NATS. Only addresses differ from
// `docker compose up`.

const DECISION = "macp.mode.decision.v1";
const token = () => randomBytes(16).toString("hex");
const apiKey = token();
/** Runtime tokens: the control planes' observer, and the agents (alice also kicks the run off through the control plane). */
const tokens = { observer: token(), alice: token(), bob: token() };
/** The variables `docker compose up` is given (deploy/README.md). */
const composeVariables = {
  MACP_API_KEY: apiKey,
  MACP_RUNTIME_OBSERVER_TOKEN: tokens.observer,
  MACP_RUNTIME_TOKENS_JSON: JSON.stringify([
    { token: tokens.observer, sender: "macp-control-plane", is_observer: true, can_start_sessions: false },
    { token: tokens.alice, sender: "alice" },
    { token: tokens.bob, sender: "bob" },
  ]),
  MACP_RUNTIME_SENDER_TOKENS_JSON: JSON.stringify({ alice: tokens.alice }),
};
const database = uniqueName("full_stack");
/** BUS_PREFIX of every NATS client of this file: streams, consumers and buckets of its own. */
const busPrefix = uniqueName("fs");
const scratch = scratchDir();

/** Deletes this file's streams (the KV lease bucket is stream `KV_<bucket>`). */
async function dropStreams(): Promise<void> {
  const nc = await connect({ servers: natsUrl() });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const info of jsm.streams.list()) names.push(info.config.name);
    for (const name of names) if (name.startsWith(`${busPrefix}_`) || name.startsWith(`KV_${busPrefix}_`)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function ownDatabaseUrl(): string {
  const url = new URL(databaseUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

// Response bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let plans: ServicePlan[] = [];
const running = new Map<string, ServiceProcess>();

/** Starts every service in compose's order, each once the services it depends on pass their healthchecks. */
async function up(): Promise<void> {
  for (const plan of startOrder(plans)) {
    for (const dependency of plan.dependsOn) {
      const other = plans.find((candidate) => candidate.name === dependency);
      if (other) await untilHealthy(other);
    }
    const service = startService(plan);
    running.set(plan.name, service);
    void service.exited.then(() => {
      if (running.get(plan.name) === service) running.delete(plan.name);
    });
  }
  for (const plan of plans) await untilHealthy(plan);
}

/** Runs the service's compose healthcheck until it passes; fails at once if the process exits. */
async function untilHealthy(plan: ServicePlan): Promise<void> {
  const service = running.get(plan.name);
  if (!service) throw new Error(`${plan.name} is not running`);
  const exited = service.exited.then(({ code, signal }) => {
    throw new Error(`${plan.name} exited (${signal ?? code}) before it was healthy:\n${service.output()}`);
  });
  // Once healthy, a later exit is the test's business, not this wait's.
  exited.catch(() => undefined);
  await Promise.race([exited, waitFor(`${plan.name} healthy`, async () => ((await healthy(plan)) ? true : undefined), 120_000)]);
}

/** SIGTERM to every service, dependents first (as `docker compose stop`); resolves with each exit. */
async function stop(): Promise<Record<string, { code: number | null; signal: NodeJS.Signals | null; output: string }>> {
  const exits: Record<string, { code: number | null; signal: NodeJS.Signals | null; output: string }> = {};
  for (const plan of startOrder(plans).reverse()) {
    const service = running.get(plan.name);
    if (!service) continue;
    service.child.kill("SIGTERM");
    const { code, signal } = await service.exited;
    exits[plan.name] = { code, signal, output: service.output() };
  }
  return exits;
}

const controlPlanes = () => plans.filter((plan) => plan.name.startsWith("control-plane")).map((plan) => `http://127.0.0.1:${plan.ports.get(3001)}`);
const runtimeAddress = () => `127.0.0.1:${plans.find((plan) => plan.name === "runtime")?.ports.get(50051)}`;

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Polls the run (once a second: the API key's rate limit is compose's default) until it reaches `wanted`. */
async function runStatus(base: string, runId: string, wanted: string): Promise<Json> {
  return waitFor(`run ${runId} ${wanted}`, async () => {
    const { body } = await api(base, "GET", `/runs/${runId}`);
    if (body.status === wanted) return body;
    if (["completed", "failed", "cancelled"].includes(body.status)) throw new Error(`run ended ${body.status}: ${body.errorCode} ${body.errorMessage}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return undefined;
  }, 120_000);
}

type Reaction = (messageType: string) => [string, Record<string, unknown>][];

/** A simulated participant: follows the session's accepted envelopes and answers as `id`. */
async function agent(sessionId: string, id: "alice" | "bob", react: Reaction, signal: AbortSignal): Promise<void> {
  const client: MacpClient = createMacpClient({ address: runtimeAddress(), auth: { bearer: tokens[id] }, defaultDeadlineMs: 30_000 });
  const stream = client.streamSession({ signal });
  try {
    stream.subscribe(sessionId, 0);
    for await (const { response } of stream) {
      if (response?.$case !== "envelope") continue;
      const envelope = response.value;
      if (envelope.messageType === "Commitment") return;
      if (envelope.sender === id) continue;
      for (const [messageType, json] of react(envelope.messageType)) {
        const payload = encodePayloadJson(DECISION, messageType, json);
        const { ack } = await client.send({ envelope: buildEnvelope({ mode: DECISION, sessionId, messageType, messageId: randomUUID(), payload }) });
        if (!ack?.ok) throw new Error(`${id}'s ${messageType} was refused: ${ack?.error?.code} ${ack?.error?.message}`);
      }
    }
  } finally {
    stream.cancel();
    client.close();
  }
}

const commitment = {
  commitment_id: "c1",
  action: "decision.selected",
  authority_scope: "full-stack",
  reason: "bob approved",
  mode_version: "1.0.0",
  configuration_version: "cfg-1",
  policy_version: "policy.default",
  outcome_positive: true,
};

/** Everything a reader sees of the run on one control plane. */
async function readRun(base: string, runId: string) {
  const [run, events, state] = await Promise.all([api(base, "GET", `/runs/${runId}`), api(base, "GET", `/runs/${runId}/events?limit=1000`), api(base, "GET", `/runs/${runId}/state`)]);
  expect([run.status, events.status, state.status]).toEqual([200, 200, 200]);
  return { run: run.body, events: events.body, state: state.body };
}

describe("the full stack as deploy/docker-compose.yml runs it, as separate processes on this machine's Postgres and NATS", () => {
  let runId: string;
  let sessionId: string;
  let before: Awaited<ReturnType<typeof readRun>>;

  beforeAll(async () => {
    await admin(`create database "${database}"`);
    plans = await planServices(readCompose(), { postgresUrl: ownDatabaseUrl(), natsUrl: natsUrl(), natsIsolation: { BUS_PREFIX: busPrefix } }, composeVariables, scratch.path);
  }, 60_000);
  afterAll(async () => {
    for (const service of running.values()) service.child.kill("SIGKILL");
    await Promise.all([...running.values()].map((service) => service.exited));
    await admin(`drop database if exists "${database}" with (force)`);
    await dropStreams();
    scratch.remove();
  }, 60_000);

  it("plans every service compose builds from this repository, with the images' commands and compose's environment", () => {
    expect(plans.map((plan) => plan.name).sort()).toEqual(["control-plane-1", "control-plane-2", "projection-worker-1", "projection-worker-2", "runtime"]);
    for (const plan of plans) {
      expect(plan.command, plan.name).toEqual(["node", "dist/main.js"]);
      expect(plan.healthcheck, plan.name).toBeDefined();
    }
    const cp = plans.find((plan) => plan.name === "control-plane-1") as ServicePlan;
    expect(cp.env).toMatchObject({ NODE_ENV: "production", DATABASE_URL: ownDatabaseUrl(), DATABASE_SCHEMA: "control_plane", AUTH_API_KEYS: apiKey, RUNTIME_ADDRESS: runtimeAddress() });
    expect(plans.find((plan) => plan.name === "runtime")?.env).toMatchObject({ MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: ownDatabaseUrl() });
    expect(cp.env).toMatchObject({ NATS_URL: natsUrl(), BUS_PREFIX: busPrefix });
    for (const name of ["projection-worker-1", "projection-worker-2"]) {
      expect(plans.find((plan) => plan.name === name)?.env, name).toMatchObject({ DATABASE_URL: ownDatabaseUrl(), DATABASE_SCHEMA: "control_plane", NATS_URL: natsUrl(), BUS_PREFIX: busPrefix });
    }
  });

  it("starts in compose's order, each service once its dependencies pass their healthchecks", { timeout: 300_000 }, async () => {
    await up();
    for (const base of controlPlanes()) {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      // Production mode: no API key, no access.
      expect((await fetch(`${base}/runs`)).status).toBe(401);
    }
  });

  it("drives a decision run end to end through the control plane's HTTP API with simulated agents on @macp/client", { timeout: 300_000 }, async () => {
    const [first, second] = controlPlanes() as [string, string];
    const created = await api(first, "POST", "/runs", {
      mode: "live",
      session: {
        modeName: DECISION,
        modeVersion: "1.0.0",
        configurationVersion: "cfg-1",
        ttlMs: 10 * 60_000,
        participants: [{ id: "alice", role: "lead" }, { id: "bob", role: "reviewer" }],
        metadata: { intent: "choose the release day", scenarioRef: "full-stack/decision" },
      },
      kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "release on Thursday", rationale: "all checks are green" } }],
      execution: { idempotencyKey: randomUUID(), tags: ["full-stack"] },
    });
    expect(created.status).toBe(201);
    ({ runId, sessionId } = created.body);
    // The other replica serves the run the first one launched.
    await runStatus(second, runId, "running");

    const signal = AbortSignal.timeout(120_000);
    setMaxListeners(0, signal);
    await Promise.all([
      agent(sessionId, "bob", (type) => (type === "Proposal" ? [["Vote", { proposal_id: "p1", vote: "approve", reason: "Thursday works" }]] : []), signal),
      agent(sessionId, "alice", (type) => (type === "Vote" ? [["Commitment", commitment]] : []), signal),
    ]);
    const run = await runStatus(second, runId, "completed");
    expect(run.runtimeSessionId).toBe(sessionId);

    const [one, two] = await Promise.all([readRun(first, runId), readRun(second, runId)]);
    expect(two).toEqual(one);
    const received = one.events.data.filter((event: { type: string }) => event.type === "message.received").map((event: { data: { messageType: string } }) => event.data.messageType);
    expect(received).toEqual(["SessionStart", "Proposal", "Vote", "Commitment"]);
    // Raw inputs take a number of the run's seq too (control-plane.md §1.8): increasing, not dense.
    const seqs = one.events.data.map((event: { seq: number }) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    before = one;
  });

  it("stops every service on SIGTERM with exit 0", { timeout: 120_000 }, async () => {
    const exits = await stop();
    expect(Object.keys(exits).sort()).toEqual(plans.map((plan) => plan.name).sort());
    for (const [name, exit] of Object.entries(exits)) expect({ name, code: exit.code, signal: exit.signal }, exit.output).toEqual({ name, code: 0, signal: null });
  });

  it("restarts, and the run reads back with identical events and state on every control plane; the runtime still knows the session", { timeout: 300_000 }, async () => {
    await up();
    for (const base of controlPlanes()) {
      const after = await readRun(base, runId);
      expect(after.events).toEqual(before.events);
      expect(after.state).toEqual(before.state);
      expect(after.run).toEqual(before.run);
    }
    const client = createMacpClient({ address: runtimeAddress(), auth: { bearer: tokens.alice } });
    try {
      const { metadata } = await client.getSession({ sessionId });
      expect(metadata?.state).toBe(SessionState.SESSION_STATE_RESOLVED);
    } finally {
      client.close();
    }
    const exits = await stop();
    for (const [name, exit] of Object.entries(exits)) expect({ name, code: exit.code }, exit.output).toEqual({ name, code: 0 });
  });
});
