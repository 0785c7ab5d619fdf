import type { Logger } from "pino";
import type { ControlPlaneConfig } from "./config/config.js";
import type { DatabaseHandle } from "./db/database.js";
import type { ControlPlaneMetrics } from "./observability/metrics.js";
import type { RuntimeGateway } from "./runtime/gateway.js";

/** Everything route plugins and services share; built once per control-plane instance. */
export interface ControlPlaneContext {
  readonly config: ControlPlaneConfig;
  readonly database: DatabaseHandle;
  readonly runtime: RuntimeGateway;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  /** True while ingest loops may run; false once shutdown began. */
  readonly ingestHealthy: () => boolean;
}

/** Options every route plugin receives. */
export interface RoutePluginOptions {
  readonly ctx: ControlPlaneContext;
}
