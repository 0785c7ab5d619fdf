/** What a service's entry point needs from its logger while starting and stopping. */
export interface ServiceMainLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A started service, as its entry point sees it. */
export interface StartedService {
  /** Logs the shutdown. */
  readonly logger: ServiceMainLogger;
  /** The line printed on stdout once the service is serving. */
  readonly banner: string;
  /** Releases everything the service holds; resolves when it may exit. */
  close(): Promise<void>;
}

/** How {@link runServiceMain} starts one service process. */
export interface ServiceMainOptions<Config extends { readonly shutdownGraceMs: number }> {
  /** The process name that prefixes the stderr lines, e.g. `macp-projection-worker`. */
  readonly name: string;
  /** Reads the configuration; a throw that `isConfigError` accepts exits with status 2. */
  loadConfig(): Config;
  isConfigError(error: unknown): boolean;
  start(config: Config): Promise<StartedService>;
  /** Logged when a signal arrives, before closing. */
  readonly shutdownMessage?: string;
}

/**
 * Runs a service process: invalid configuration exits 2 with one stderr line, a failed start
 * exits 1, and SIGTERM/SIGINT close the service once, exiting 1 if closing fails or outlasts
 * `shutdownGraceMs` so an orchestrator never waits on a hung shutdown.
 */
export function runServiceMain<Config extends { readonly shutdownGraceMs: number }>(options: ServiceMainOptions<Config>): void {
  main(options).catch((error: unknown) => {
    process.stderr.write(`${options.name}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

async function main<Config extends { readonly shutdownGraceMs: number }>(options: ServiceMainOptions<Config>): Promise<void> {
  let config: Config;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (options.isConfigError(error)) {
      process.stderr.write(`${options.name}: invalid configuration: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    }
    throw error;
  }
  const service = await options.start(config);
  process.stdout.write(`${service.banner}\n`);
  const { logger } = service;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, options.shutdownMessage ?? "shutting down");
    const force = setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, "shutdown grace period exceeded");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    service.close().then(
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
