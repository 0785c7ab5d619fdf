#!/usr/bin/env node
import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.js";
import { startWorker } from "./worker.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`macp-projection-worker: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: "macp-projection-worker" } });
  const handle = await startWorker(config, logger);
  process.stdout.write(`MACP projection worker ${handle.id} serving health and metrics on ${handle.url}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing the batch in hand");
    const force = setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, "shutdown grace period exceeded");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    handle.close().then(
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
  process.stderr.write(`macp-projection-worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
