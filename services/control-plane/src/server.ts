import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ControlPlaneConfig } from "./config/config.js";
import { describeConfig } from "./config/config.js";
import type { ControlPlaneContext } from "./context.js";
import { migrateToLatest, openDatabase } from "./db/database.js";
import { buildApp } from "./http/app.js";
import { createLogger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { MemoryBus, metricsObserver, NatsBus, PartitionProjector, ProjectionRunner, RunLifecycle } from "@macp/pipeline";
import type { EventBus, EventsPublisher } from "@macp/pipeline";
import { createBusSink } from "./ingest/ingest-sink.js";
import { RunEventHub } from "./ingest/run-event-hub.js";
import { RunOwnership } from "./ingest/run-ownership.js";
import { ControlWriter } from "./runs/control-writer.js";
import { RunDriver } from "./runs/run-driver.js";
import { RunReadCache } from "./runs/run-read-cache.js";
import { RunService } from "./runs/run-service.js";
import { createRuntimeGateway } from "./runtime/gateway.js";
import { createWebhookDelivery } from "./webhooks/webhook-delivery.js";
import type { WebhookDelivery, WebhookQueueFactory } from "./webhooks/webhook-delivery.js";
import type { WebhookClock } from "./webhooks/webhook-dispatcher.js";

/** A running control plane. */
export interface ControlPlaneHandle {
  /** Base URL, e.g. `http://127.0.0.1:3001`. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly context: ControlPlaneContext;
  /** Stops accepting requests, lets in-flight ones finish, stops ingest and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Options for embedding. */
export interface StartOptions {
  readonly logger?: Logger;
  /** Time of webhook deliveries and retries (tests step through retries with a manual clock). */
  readonly webhookClock?: WebhookClock;
  /** Replaces the embedded Postgres-outbox delivery queue (e.g. with a message-queue one). */
  readonly webhookQueue?: WebhookQueueFactory;
  /** Time of the runtime circuit breaker (tests open and close it without waiting). */
  readonly breakerClock?: () => number;
}

/**
 * Starts the control plane: opens and migrates the database, connects to the runtime, resumes
 * ingest of every unfinished run, and listens. The programmatic entry used by `main.ts`, tests and
 * launchers.
 */
export async function startControlPlane(config: ControlPlaneConfig, options: StartOptions = {}): Promise<ControlPlaneHandle> {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);
  logger.info({ config: describeConfig(config) }, "starting MACP control plane");
  const metrics = createMetrics();
  const database = await openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db, database.schema);
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
  } catch (error) {
    await database.close();
    throw error;
  }
  let bus: EventBus;
  try {
    bus =
      config.bus.natsUrl === undefined
        ? new MemoryBus(config.bus.partitions, config.bus.dedupeWindowMs)
        : await NatsBus.connect({ url: config.bus.natsUrl, prefix: config.bus.prefix, partitions: config.bus.partitions, dedupeWindowMs: config.bus.dedupeWindowMs, name: "macp-control-plane" });
  } catch (error) {
    await database.close();
    throw error;
  }
  const runtime = createRuntimeGateway(config.runtime, metrics, options.breakerClock ? { breakerClock: options.breakerClock } : {});
  const hub = new RunEventHub(bus, logger);
  const runCache = new RunReadCache((runId, listener) => bus.subscribeEvents(runId, listener), config.runCache);
  // This instance's own commits drop the cached run before their update leaves for the bus.
  const publisher: EventsPublisher = {
    publish(update) {
      runCache.invalidate(update.runId);
      hub.publish(update);
    },
  };
  const lifecycle = new RunLifecycle(publisher, metrics.runTransitions);
  let webhooks: WebhookDelivery;
  try {
    webhooks = await createWebhookDelivery({ db: database.db, config: config.webhooks, bus: config.bus, logger, registry: metrics.registry, clock: options.webhookClock, queue: options.webhookQueue });
  } catch (error) {
    await bus.close();
    runtime.close();
    await database.close();
    throw error;
  }
  lifecycle.outbox = webhooks.outbox;
  const sink = createBusSink(bus, database.db);
  const ownership = new RunOwnership(bus.leases, randomUUID(), config.runLeaseTtlMs);
  const control = new ControlWriter(bus, config.controlApplyTimeoutMs);
  const driver = new RunDriver(database.db, config, runtime, sink, hub, lifecycle, control, metrics, logger, ownership);
  // Embedded mode: the projector runs in this process and holds every partition. On JetStream
  // the projection workers are the only writers of runtime-derived events.
  const observer = metricsObserver(metrics.projector);
  const projection = new ProjectionRunner(
    bus,
    () => {
      const projector = new PartitionProjector(database.db, lifecycle, observer);
      return (batch) => projector.handle(batch);
    },
    { owner: ownership.owner, leaseTtlMs: config.bus.partitionLeaseTtlMs, maxPartitions: bus.partitions },
    logger,
  );
  const runs = new RunService(database.db, config, runtime, control, driver, runCache);
  const pipeline = { bus, projection: bus.kind === "memory" ? projection : undefined };
  const context: ControlPlaneContext = { config, database, runtime, metrics, logger, hub, sink, lifecycle, control, driver, runs, webhooks, runCache, pipeline };
  const stopPipeline = async (): Promise<void> => {
    await driver.stop();
    await projection.stop();
    runCache.close();
    await bus.close();
  };
  let app: FastifyInstance;
  try {
    await pipeline.projection?.start();
    app = await buildApp(context);
    await app.listen({ host: config.host, port: config.port });
    await driver.start();
    webhooks.queue.start();
  } catch (error) {
    await webhooks.close();
    await stopPipeline();
    runtime.close();
    await database.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  // The instance id is the owner of this instance's run and partition leases on the bus.
  logger.info({ url, instance: ownership.owner }, "control plane listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    context,
    close() {
      closing ??= (async () => {
        await app.close();
        await webhooks.close();
        await stopPipeline();
        runtime.close();
        await database.close();
      })();
      return closing;
    },
  };
}
