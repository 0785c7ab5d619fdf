import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ControlPlaneConfig } from "./config/config.js";
import { describeConfig } from "./config/config.js";
import type { ControlPlaneContext } from "./context.js";
import { migrateToLatest, openDatabase } from "./db/database.js";
import { buildApp } from "./http/app.js";
import { createLogger } from "./observability/logger.js";
import { createMetrics } from "./observability/metrics.js";
import { createInProcessSink } from "./ingest/ingest-sink.js";
import { RunEventHub } from "./ingest/run-event-hub.js";
import { RunDriver } from "./runs/run-driver.js";
import { RunLifecycle } from "./runs/run-lifecycle.js";
import { RunService } from "./runs/run-service.js";
import { createRuntimeGateway } from "./runtime/gateway.js";

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
  const runtime = createRuntimeGateway(config.runtime, metrics);
  const hub = new RunEventHub();
  const lifecycle = new RunLifecycle(hub, metrics);
  const sink = createInProcessSink(database.db, lifecycle, metrics);
  const driver = new RunDriver(database.db, config, runtime, sink, lifecycle, metrics, logger);
  const runs = new RunService(database.db, config, runtime, lifecycle, driver);
  const context: ControlPlaneContext = { config, database, runtime, metrics, logger, hub, sink, lifecycle, driver, runs };
  let app: FastifyInstance;
  try {
    app = await buildApp(context);
    await app.listen({ host: config.host, port: config.port });
    await driver.start();
  } catch (error) {
    await driver.stop();
    runtime.close();
    await database.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ url }, "control plane listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    context,
    close() {
      closing ??= (async () => {
        await app.close();
        await driver.stop();
        runtime.close();
        await database.close();
      })();
      return closing;
    },
  };
}
