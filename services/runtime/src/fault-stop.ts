import type { Logger } from "pino";

/** An unrecoverable fault that stopped a runtime. */
export interface RuntimeFault {
  readonly error: unknown;
  /** Where it was raised: `storage`, `uncaughtException`, `unhandledRejection`. */
  readonly context: string;
}

/** What a fault stop acts on. */
export interface FaultStopOptions {
  readonly logger: Logger;
  /** Marks the health service NOT_SERVING. */
  readonly stopServing: () => void;
  /** Told at once when the first fault starts the stop. */
  readonly onFault?: (fault: RuntimeFault) => void;
}

/**
 * The runtime's one way to stop on an unrecoverable fault. It is usable from the first storage
 * call on, before the server exists; the shutdown it runs is attached once there is one. Only
 * the first fault counts: it is logged at `fatal` with its context, health goes NOT_SERVING at
 * once, then the shutdown runs. Later faults are logged and wait for the same stop.
 */
export class FaultStop {
  /** Resolves with the first fault once the shutdown it started has finished. */
  readonly failed: Promise<RuntimeFault>;
  private first: RuntimeFault | undefined;
  private shutdown: () => Promise<void> = async () => undefined;
  private stopping: Promise<void> = Promise.resolve();
  private reportFailed: (fault: RuntimeFault) => void = () => undefined;

  constructor(private readonly options: FaultStopOptions) {
    this.failed = new Promise((resolve) => (this.reportFailed = resolve));
  }

  /** The first fault, if one happened. */
  get fault(): RuntimeFault | undefined {
    return this.first;
  }

  /** Sets the shutdown a later fault runs (a fault before this only stops serving). */
  attach(shutdown: () => Promise<void>): void {
    this.shutdown = shutdown;
  }

  fail(error: unknown, context: string): Promise<void> {
    const { logger } = this.options;
    if (this.first !== undefined) {
      logger.error({ err: error, context }, "further fault while stopping");
      return this.stopping;
    }
    const first: RuntimeFault = { error, context };
    this.first = first;
    logger.fatal({ err: error, context }, "unrecoverable fault: health NOT_SERVING, stopping");
    this.options.stopServing();
    this.options.onFault?.(first);
    this.stopping = this.shutdown()
      .catch((closeError: unknown) => logger.error({ err: closeError }, "shutdown after a fault failed"))
      .then(() => this.reportFailed(first));
    return this.stopping;
  }
}
