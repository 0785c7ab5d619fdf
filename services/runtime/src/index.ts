export { startRuntime } from "./runtime.js";
export type { RuntimeHandle, RuntimeOptions } from "./runtime.js";
export type { RuntimeFault } from "./fault-stop.js";
export { loadConfig, ConfigError } from "./config.js";
export type { RuntimeConfig } from "./config.js";
export { createLogger } from "./logger.js";
