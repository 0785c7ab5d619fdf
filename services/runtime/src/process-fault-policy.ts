import type { Logger } from "pino";
import type { RuntimeHandle } from "./runtime.js";

/**
 * The process-wide policy for faults nothing else handled: an uncaught exception, an unhandled
 * rejection, or storage that can no longer write (lost writer lock, untrustworthy log). Each is
 * logged with its context, the runtime stops serving (health NOT_SERVING, in-flight calls
 * finish, what can be flushed is flushed) and the process exits with status 1, for a supervisor
 * to restart it; recovery at start is safe. A stop that hangs is cut short after `exitAfterMs`.
 */
export function installFaultPolicy(
  logger: Logger,
  exitAfterMs: number,
): { attach(runtime: RuntimeHandle): void; onFault(): void } {
  let runtime: RuntimeHandle | undefined;
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    logger.flush(() => process.exit(1));
  };
  const uncaught = (context: string) => (error: unknown) => {
    if (runtime === undefined) {
      logger.fatal({ err: error, context }, "unrecoverable fault while starting");
      exit();
      return;
    }
    void runtime.fail(error, context);
  };
  process.on("uncaughtException", uncaught("uncaughtException"));
  process.on("unhandledRejection", uncaught("unhandledRejection"));
  return {
    attach(started) {
      runtime = started;
      void started.failed.then(exit);
    },
    onFault() {
      setTimeout(exit, exitAfterMs).unref();
    },
  };
}
