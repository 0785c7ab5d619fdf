/** Where a backend reports repairs and lifecycle events; the daemon passes its own logger. */
export interface StorageLogger {
  /** A repair or a failure the operator should know about. */
  warn(message: string): void;
  /** A lifecycle event (store opened, recovered, closed). */
  info(message: string): void;
}

/** Logger used when none is given, so repairs are never silent. */
export const consoleLogger: StorageLogger = {
  warn: (message) => console.warn(`[macp-storage] ${message}`),
  info: (message) => console.info(`[macp-storage] ${message}`),
};
