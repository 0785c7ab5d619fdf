import { ConfigError, describeConfig, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { installFaultPolicy } from "./process-fault-policy.js";
import { startRuntime } from "./runtime.js";
import { startTracing, tracingRequested } from "./tracing.js";

/** Extra time, beyond the shutdown grace, that a stop after a fault may take before exiting anyway. */
const FAULT_EXIT_MARGIN_MS = 5_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`macp-runtime: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const stopTracing = tracingRequested(process.env) ? startTracing(process.env) : async () => undefined;
  const faults = installFaultPolicy(logger, config.shutdownGraceMs + FAULT_EXIT_MARGIN_MS);
  logger.info({ config: describeConfig(config) }, "starting MACP runtime");
  const runtime = await startRuntime(config, { logger, onFault: faults.onFault });
  faults.attach(runtime);
  process.stdout.write(
    `MACP runtime listening on ${runtime.address} (${config.tls ? "TLS" : "plaintext"}, storage: ${config.storage.backend})\n` +
      (runtime.metricsUrl ? `Prometheus metrics at ${runtime.metricsUrl}\n` : "") +
      (config.tls ? "" : "Talk to it with any MACP client, e.g. authorization: Bearer <agent-id> in development mode.\n"),
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    runtime
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
  process.stderr.write(`macp-runtime: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
