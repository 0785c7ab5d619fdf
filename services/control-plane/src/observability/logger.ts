import { pino } from "pino";
import type { Logger } from "pino";
import type { LogLevel } from "../config/config.js";
import { traceFields } from "./tracing.js";

const REDACTED = [
  "req.headers.authorization",
  "headers.authorization",
  "authorization",
  "token",
  "bearer",
  "password",
  "secret",
  "*.token",
  "*.password",
  "*.secret",
];

/** The control plane's structured JSON logger; credentials are masked. */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  // Lines logged inside a traced request or runtime call carry its trace_id and span_id.
  const options = { level, base: { service: "macp-control-plane" }, redact: { paths: REDACTED, censor: "[redacted]" }, mixin: traceFields };
  return destination ? pino(options, destination as never) : pino(options);
}
