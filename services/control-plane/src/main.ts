#!/usr/bin/env node
import { runServiceMain } from "@macp/pipeline";
import { ConfigError, loadConfig } from "./config/config.js";
import { createLogger } from "./observability/logger.js";
import { startTracing, tracingRequested } from "./observability/tracing.js";
import { startControlPlane } from "./server.js";

runServiceMain({
  name: "macp-control-plane",
  loadConfig: () => loadConfig(process.env),
  isConfigError: (error) => error instanceof ConfigError,
  start: async (config) => {
    const logger = createLogger(config.logLevel);
    const stopTracing = tracingRequested(process.env) ? startTracing(process.env) : async () => undefined;
    const handle = await startControlPlane(config, { logger });
    return {
      logger,
      banner: `MACP control plane listening on ${handle.url} (API docs at ${handle.url}/docs)`,
      close: async () => {
        await handle.close();
        // A trace flush that fails must not turn a clean shutdown into a failed one.
        await stopTracing().catch((error: unknown) => logger.warn({ err: error }, "flushing traces failed"));
      },
    };
  },
});
