export { startRuntime } from "./runtime.js";
export type { RuntimeFault, RuntimeHandle, RuntimeOptions } from "./runtime.js";
export { loadConfig, ConfigError } from "./config.js";
export type { RuntimeConfig } from "./config.js";
export { createLogger } from "./logger.js";
