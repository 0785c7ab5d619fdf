import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { NatsBus, webhookDeliveryId, webhookQueueNames } from "@macp/pipeline";
import type { WebhookDeadLetter } from "@macp/pipeline";
import { SessionMetadata, SessionState } from "@macp/protocol";
import { natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, startControlPlane } from "../src/index.js";
import type { ControlPlaneHandle } from "../src/index.js";
import { createLogger } from "../src/observability/logger.js";
import { BASE_ENV, dropSchema, freshSchema, request, testDatabaseUrl } from "./support/harness.js";
import type { TestResponse } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";
import { waitFor } from "./support/wait.js";
import { NO_ANSWER, WebhookReceiver } from "./support/webhook-receiver.js";

const SECRET = "whsec-nats-0123456789abcdef";
const KEY = "hooks-key-0123456789abcdef";
const PARTITIONS = 2;
const MAX_ATTEMPTS = 4;
const BASE_MS = 300;
const CONTROL_PLANE_BIN = join(import.meta.dirname, "../dist/main.js");
const WORKER_BIN = join(import.meta.dirname, "../../projection-worker/dist/main.js");

function verify(headers: Record<string, unknown>, body: string): boolean {
  return headers["x-macp-signature"] === `sha256=${createHmac("sha256", SECRET).update(`${String(headers["x-macp-timestamp"])}.${body}`).digest("hex")}`;
}

/** Spawns a built service; resolves once it printed its URL. */
function spawnService(bin: string, env: Record<string, string>): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${bin} exited ${code}: ${output}`)));
  });
  return { child, url };
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/**
 * Webhooks in NATS mode: deliveries travel on the JetStream webhook queue (its own BUS_PREFIX),
 * the delivery log stays in Postgres, and a projection worker process applies runtime-driven
 * transitions apart from the control plane.
 */
describe("webhooks on the JetStream queue (NATS mode)", () => {
  const schema = freshSchema();
  const prefix = uniqueName("whq");
  const names = webhookQueueNames(prefix);
  const env: Record<string, string> = {
    ...BASE_ENV,
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_SCHEMA: schema,
    NATS_URL: natsUrl(),
    BUS_PREFIX: prefix,
    BUS_PARTITIONS: String(PARTITIONS),
    RUN_RECOVERY_ENABLED: "false",
    AUTH_API_KEYS_JSON: JSON.stringify([{ id: "hooks", key: KEY, scopes: ["webhooks"] }]),
    WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    WEBHOOK_RETRY_BASE_MS: String(BASE_MS),
    WEBHOOK_TIMEOUT_MS: "1000",
    WEBHOOK_ACK_WAIT_MS: "1000",
    WEBHOOK_POLL_INTERVAL_MS: "200",
    WEBHOOK_REPUBLISH_AFTER_MS: "1000",
  };
  let receiver: WebhookReceiver;
  let cp: ControlPlaneHandle | undefined;
  let worker: ChildProcess | undefined;
  let bus: NatsBus;
  let admin: pg.Client;

  // Retries wait the full backoff (random 1): 300, 600, 1200 ms.
  const start = async (): Promise<ControlPlaneHandle> => startControlPlane(loadConfig(env), { logger: createLogger("silent"), webhookClock: { now: () => Date.now(), random: () => 1 } });
  const call = (method: string, path: string, body?: unknown): Promise<TestResponse> =>
    request((cp as ControlPlaneHandle).url, method, path, { ...(body !== undefined ? { body } : {}), headers: { authorization: `Bearer ${KEY}` } });
  const hook = async (path: string, events: string[]): Promise<string> => {
    const created = await call("POST", "/webhooks", { url: `${receiver.url}${path}`, events, secret: SECRET });
    expect(created.status).toBe(201);
    return created.body.id;
  };
  const deliveries = async (webhookId: string) => (await admin.query(`select * from "${schema}".webhook_deliveries where webhook_id = $1`, [webhookId])).rows;
  const deliveryLog = async (webhookId: string) => (await call("GET", `/webhooks/${webhookId}/deliveries`)).body.data;
  const finishRun = async (status: "completed" | "failed" | "cancelled"): Promise<string> => {
    const ctx = (cp as ControlPlaneHandle).context;
    const runId = await seedRun(ctx);
    await endRun(ctx, runId, status);
    return runId;
  };
  /** The runtime reports the session resolved: a raw input only a projector applies. */
  const publishResolved = (runId: string) =>
    bus.publishRaw([{ runId, position: 0, raw: { kind: "session-snapshot", metadata: SessionMetadata.fromPartial({ sessionId: `s-${runId}`, state: SessionState.SESSION_STATE_RESOLVED }), receivedAt: "2026-12-06T12:00:00.000Z" } }]);
  const runStatus = async (runId: string): Promise<string | undefined> => (await admin.query(`select status from "${schema}".runs where id = $1`, [runId])).rows[0]?.status;
  const queuePending = async (): Promise<number> => {
    const nc = await connect({ servers: natsUrl() });
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(names.stream, names.consumer);
      return info.num_pending + info.num_ack_pending;
    } finally {
      await nc.close();
    }
  };
  const deadLetters = async (): Promise<WebhookDeadLetter[]> => {
    const nc = await connect({ servers: natsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(names.deadStream);
      const letters: WebhookDeadLetter[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const message = await jsm.streams.getMessage(names.deadStream, { seq });
        if (message) letters.push(message.json<WebhookDeadLetter>());
      }
      return letters;
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    cp = await start();
    admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    bus = await NatsBus.connect({ url: natsUrl(), prefix, partitions: PARTITIONS, dedupeWindowMs: 60_000, name: "webhooks test" });
  });
  afterAll(async () => {
    await cp?.close();
    if (worker) await killed(worker, "SIGTERM");
    await bus?.close();
    await receiver?.close();
    await admin?.end();
    await dropSchema(schema);
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`, names.stream, names.deadStream]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it("delivers through the queue with a valid signature and a delivery id derived from (webhook, event)", async () => {
    const id = await hook("/signed", ["run.completed"]);
    const runId = await finishRun("completed");
    const [row] = await waitFor("the delivery", async () => ((await deliveryLog(id))[0]?.status === "delivered" ? deliveryLog(id) : undefined));
    expect(row).toMatchObject({ runId, event: "run.completed", attempts: 1, responseStatus: 200 });
    const [stored] = await deliveries(id);
    expect(row.id).toBe(webhookDeliveryId(id, stored.event_id));
    const [hit] = receiver.to("/signed");
    expect(hit?.headers["x-macp-delivery"]).toBe(row.id);
    expect(verify(hit?.headers as Record<string, unknown>, hit?.body as string)).toBe(true);
    await waitFor("the queue message acknowledged", async () => ((await queuePending()) === 0 ? true : undefined));
    // A redelivery within the queue's dedupe window is a new message, not a dropped duplicate.
    expect((await call("POST", `/webhooks/${id}/deliveries/${row.id}/redeliver`)).status).toBe(202);
    await waitFor("the redelivery", async () => (receiver.to("/signed").length === 2 && (await deliveryLog(id))[0]?.status === "delivered" ? true : undefined));
    expect(receiver.to("/signed").map((hit) => hit.headers["x-macp-delivery"])).toEqual([row.id, row.id]);
  });

  it("retries after 500s with growing delays from the queue, keeping the delivery id", async () => {
    const id = await hook("/flaky", ["run.failed"]);
    receiver.respond("/flaky", 500, 500, 500);
    await finishRun("failed");
    const [row] = await waitFor("delivery after three 500s", async () => ((await deliveryLog(id))[0]?.status === "delivered" ? deliveryLog(id) : undefined));
    expect(row).toMatchObject({ attempts: 4, responseStatus: 200, error: null });
    const hits = receiver.to("/flaky");
    expect(hits.map((hit) => hit.headers["x-macp-delivery"])).toEqual([row.id, row.id, row.id, row.id]);
    const gaps = hits.slice(1).map((hit, index) => hit.at - (hits[index] as { at: number }).at);
    // Each retry waited its backoff (BASE_MS, then doubling; the queue handed the message back after
    // it, not at once), and each longer than the one before.
    expect(gaps[0]).toBeGreaterThan(BASE_MS / 2);
    expect(gaps[1]).toBeGreaterThan(gaps[0] as number);
    expect(gaps[2]).toBeGreaterThan(gaps[1] as number);
  });

  it("dead-letters a delivery after WEBHOOK_MAX_ATTEMPTS failures and stops trying", async () => {
    const id = await hook("/down", ["run.cancelled"]);
    receiver.respond("/down", ...Array.from({ length: MAX_ATTEMPTS + 2 }, () => 503));
    await finishRun("cancelled");
    const [row] = await waitFor("the dead delivery", async () => ((await deliveryLog(id))[0]?.status === "dead" ? deliveryLog(id) : undefined));
    expect(row).toMatchObject({ attempts: MAX_ATTEMPTS, responseStatus: 503, error: "HTTP 503", nextAttemptAt: null });
    const letters = await waitFor("the dead letter", async () => {
      const found = (await deadLetters()).filter((letter) => letter.deliveryId === row.id);
      return found.length > 0 ? found : undefined;
    });
    expect(letters).toEqual([{ deliveryId: row.id, reason: "HTTP 503", deadAt: expect.any(String) }]);
    await waitFor("the queue message acknowledged", async () => ((await queuePending()) === 0 ? true : undefined));
    expect(receiver.to("/down")).toHaveLength(MAX_ATTEMPTS);
  });

  it("publishes again a committed delivery whose queue message was lost (a crash between commit and publish)", async () => {
    const id = await hook("/lost", ["run.completed"]);
    const runId = await seedRun((cp as ControlPlaneHandle).context);
    // Committed as a transition would, but never published to the queue.
    const eventId = "6f0c1d9e-2b1a-4c3d-8e7f-0a1b2c3d4e5f";
    const deliveryId = webhookDeliveryId(id, eventId);
    const body = JSON.stringify({ id: deliveryId, event: "run.completed", runId, status: "completed", timestamp: new Date().toISOString(), data: {} });
    await admin.query(`insert into "${schema}".webhook_deliveries (id, webhook_id, event, run_id, event_id, body, status, next_attempt_at) values ($1, $2, 'run.completed', $3, $4, $5, 'pending', now())`, [deliveryId, id, runId, eventId, body]);
    const [row] = await waitFor("the swept delivery", async () => ((await deliveryLog(id))[0]?.status === "delivered" ? deliveryLog(id) : undefined));
    expect(row).toMatchObject({ id: deliveryId, attempts: 1 });
    expect(receiver.to("/lost").map((hit) => hit.body)).toEqual([body]);
    await waitFor("the queue message acknowledged", async () => ((await queuePending()) === 0 ? true : undefined));
  });

  it("a projection worker process applying the transition writes the delivery once; a control plane started later delivers it", { timeout: 120_000 }, async () => {
    const id = await hook("/worker", ["run.completed"]);
    const runId = await seedRun((cp as ControlPlaneHandle).context);
    await (cp as ControlPlaneHandle).close();
    cp = undefined;
    const spawned = spawnService(WORKER_BIN, { ...env, LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0" });
    worker = spawned.child;
    await spawned.url;
    await publishResolved(runId);
    await waitFor("the worker completed the run", async () => ((await runStatus(runId)) === "completed" ? true : undefined), 60_000);
    const written = await waitFor("the delivery row", async () => {
      const rows = await deliveries(id);
      return rows.length > 0 ? rows : undefined;
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ status: "pending", event: "run.completed", run_id: runId, attempts: 0 });
    expect(written[0].id).toBe(webhookDeliveryId(id, written[0].event_id));
    // The worker published it: the queue holds it while no control plane consumes.
    expect(await queuePending()).toBeGreaterThanOrEqual(1);
    // The runtime reporting the end again changes nothing.
    await publishResolved(runId);

    cp = await start();
    const [row] = await waitFor("delivery by the restarted control plane", async () => ((await deliveryLog(id))[0]?.status === "delivered" ? deliveryLog(id) : undefined));
    expect(row).toMatchObject({ id: written[0].id, runId, attempts: 1 });
    const hits = receiver.to("/worker");
    expect(hits).toHaveLength(1);
    expect(verify(hits[0]?.headers as Record<string, unknown>, hits[0]?.body as string)).toBe(true);
    expect(await deliveries(id)).toHaveLength(1);
  });

  it("loses no delivery when the control-plane process dies between taking the message and acknowledging it", { timeout: 120_000 }, async () => {
    const id = await hook("/killed", ["run.completed"]);
    // The first attempt hangs: the dispatching process holds the message unacknowledged.
    receiver.respond("/killed", NO_ANSWER);
    const runId = await seedRun((cp as ControlPlaneHandle).context);
    await (cp as ControlPlaneHandle).close();
    cp = undefined;
    const doomed = spawnService(CONTROL_PLANE_BIN, env);
    await doomed.url;
    await publishResolved(runId);
    await waitFor("the doomed process's attempt", async () => (receiver.to("/killed").length === 1 ? true : undefined), 60_000);
    await killed(doomed.child, "SIGKILL");
    const [pending] = await deliveries(id);
    expect(pending).toMatchObject({ status: "pending", attempts: 0 });

    cp = await start();
    const [row] = await waitFor("delivery by the surviving control plane", async () => ((await deliveryLog(id))[0]?.status === "delivered" ? deliveryLog(id) : undefined), 60_000);
    expect(row).toMatchObject({ id: pending.id, attempts: 1, responseStatus: 200 });
    expect(receiver.to("/killed").map((hit) => hit.headers["x-macp-delivery"])).toEqual([pending.id, pending.id]);
    await waitFor("the queue message acknowledged", async () => ((await queuePending()) === 0 ? true : undefined));
  });
});
