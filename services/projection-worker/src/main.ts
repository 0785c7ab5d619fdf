#!/usr/bin/env node
import { runServiceMain } from "@macp/pipeline";
import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.js";
import { startWorker } from "./worker.js";

runServiceMain({
  name: "macp-projection-worker",
  loadConfig: () => loadConfig(process.env),
  isConfigError: (error) => error instanceof ConfigError,
  shutdownMessage: "shutting down: finishing the batch in hand",
  start: async (config) => {
    const logger = pino({ level: config.logLevel, base: { service: "macp-projection-worker" } });
    const handle = await startWorker(config, logger);
    return {
      logger,
      banner: `MACP projection worker ${handle.id} serving health and metrics on ${handle.url}`,
      close: () => handle.close(),
    };
  },
});
