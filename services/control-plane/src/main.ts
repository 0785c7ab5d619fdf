#!/usr/bin/env node
import { ConfigError, loadConfig } from "./config/config.js";
import { createLogger } from "./observability/logger.js";
import { startTracing, tracingRequested } from "./observability/tracing.js";
import { startControlPlane } from "./server.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`macp-control-plane: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const stopTracing = tracingRequested(process.env) ? startTracing(process.env) : async () => undefined;
  const handle = await startControlPlane(config, { logger });
  process.stdout.write(`MACP control plane listening on ${handle.url} (API docs at ${handle.url}/docs)\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, "shutdown grace period exceeded");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    handle
      .close()
      .then(() => stopTracing().catch((error: unknown) => logger.warn({ err: error }, "flushing traces failed")))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`macp-control-plane: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
