import { pino } from "pino";
import type { Logger } from "pino";
import type { LogLevel } from "./config.js";
import { traceFields } from "./tracing.js";

/** Paths pino masks in every log line, so credentials can never reach the logs. */
const REDACTED = [
  "authorization",
  "token",
  "bearer",
  "password",
  "*.authorization",
  "*.token",
  "*.password",
  "metadata.authorization",
  "metadata.x-macp-token",
];

/** The runtime's structured JSON logger. */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: "macp-runtime" },
    redact: { paths: REDACTED, censor: "[redacted]" },
    // Lines logged while serving a traced call carry its trace_id and span_id.
    mixin: traceFields,
  };
  return destination ? pino(options, destination as never) : pino(options);
}
