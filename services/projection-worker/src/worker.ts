import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { JetStreamWebhookQueue, NatsBus, PartitionProjector, ProjectionRunner, RunLifecycle, createProjectorMetrics, metricsObserver, webhookTransitionOutbox } from "@macp/pipeline";
import type { Database } from "@macp/pipeline";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import { Counter, Registry, collectDefaultMetrics } from "prom-client";
import type { WorkerConfig } from "./config.js";

/** A running projection worker. */
export interface WorkerHandle {
  /** Base URL of the health and metrics endpoints. */
  readonly url: string;
  /** Lease owner id of this worker. */
  readonly id: string;
  /** Partitions this worker projects right now. */
  partitions(): readonly number[];
  /** Finishes the batch in hand (acknowledged), gives the partitions back, closes everything. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a worker: connects to Postgres (the control plane migrates the schema) and NATS,
 * declares the streams and buckets, and projects every raw partition whose lease it can take,
 * up to `maxPartitions`.
 */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<WorkerHandle> {
  const id = randomUUID();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createProjectorMetrics(registry);
  const transitions = new Counter({ name: "run_state_transitions_total", help: "Run status transitions by target status", labelNames: ["status"], registers: [registry] });
  const pool = new pg.Pool({
    connectionString: config.database.url,
    max: config.database.poolMax,
    connectionTimeoutMillis: config.database.connectionTimeoutMs,
    options: `-c search_path="${config.database.schema}"`,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let bus: NatsBus;
  try {
    bus = await NatsBus.connect({
      url: config.bus.natsUrl,
      prefix: config.bus.prefix,
      partitions: config.bus.partitions,
      dedupeWindowMs: config.bus.dedupeWindowMs,
      ackWaitMs: config.bus.ackWaitMs,
      name: `macp-projection-worker ${id}`,
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let webhookQueue: JetStreamWebhookQueue;
  try {
    webhookQueue = await JetStreamWebhookQueue.connect({
      url: config.bus.natsUrl,
      prefix: config.bus.prefix,
      dedupeWindowMs: config.bus.dedupeWindowMs,
      ackWaitMs: config.bus.ackWaitMs,
      name: `macp-projection-worker webhooks ${id}`,
    });
  } catch (error) {
    await bus.close();
    await db.destroy();
    throw error;
  }
  const lifecycle = new RunLifecycle(
    {
      publish: (update) =>
        void bus.publishEvents(update).catch((error: unknown) => {
          // Stored already: live feeds read them from the store.
          logger.warn({ run_id: update.runId, detail: error instanceof Error ? error.message : String(error) }, "could not publish run events for live fan-out");
        }),
    },
    transitions,
  );
  // Transitions this worker applies (a session resolving, expiring, …) write their webhook
  // deliveries in the same transaction, like the control plane's own transitions do.
  // The control planes consume the webhook queue; a lost publication is republished by their sweep.
  lifecycle.outbox = webhookTransitionOutbox({
    committed: (ids) =>
      void webhookQueue.publish(ids).catch((error: unknown) => {
        logger.warn({ delivery_ids: ids, detail: error instanceof Error ? error.message : String(error) }, "could not publish webhook deliveries to the queue");
      }),
  });
  const observer = metricsObserver(metrics);
  const runner = new ProjectionRunner(
    bus,
    () => {
      const projector = new PartitionProjector(db, lifecycle, observer);
      return (batch) => projector.handle(batch);
    },
    { owner: id, leaseTtlMs: config.bus.partitionLeaseTtlMs, maxPartitions: config.maxPartitions },
    logger,
  );
  await runner.start();
  const lag = setInterval(() => {
    metrics.partitionsHeld.set(runner.partitions.length);
    for (const partition of runner.partitions) {
      bus.pendingRaw(partition).then(
        (pending) => metrics.consumerLag.set({ partition: String(partition) }, pending),
        () => undefined,
      );
    }
  }, config.lagPollMs);
  lag.unref();

  const ready = async (): Promise<{ ok: boolean; database: string; bus: string; partitions: readonly number[] }> => {
    const [database, busOk] = await Promise.all([
      sql`select 1 from runs limit 1`.execute(db).then(
        () => "ok",
        () => "unhealthy",
      ),
      bus.healthy(),
    ]);
    return { ok: database === "ok" && busOk && !stopping, database, bus: busOk ? "ok" : "unhealthy", partitions: runner.partitions };
  };
  let stopping = false;
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown, type = "application/json"): void => {
      response.writeHead(status, { "content-type": type });
      response.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") return reply(405, { statusCode: 405, errorCode: "METHOD_NOT_ALLOWED", message: "only GET is served" });
    if (path === "/healthz") return reply(200, { ok: true, service: "macp-projection-worker" });
    if (path === "/readyz") {
      void ready().then((state) => reply(state.ok ? 200 : 503, state));
      return;
    }
    if (path === "/metrics") {
      void registry.metrics().then((text) => reply(200, text, registry.contentType));
      return;
    }
    reply(404, { statusCode: 404, errorCode: "NOT_FOUND", message: `no route ${path}` });
  });
  await listen(server, config.host, config.port);
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    id,
    partitions: () => runner.partitions,
    close() {
      closing ??= (async () => {
        stopping = true;
        clearInterval(lag);
        await runner.stop();
        await webhookQueue.close();
        await bus.close();
        await db.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
