import type { Logger } from "pino";
import type { ControlPlaneConfig } from "./config/config.js";
import type { DatabaseHandle } from "./db/database.js";
import type { IngestSink } from "./ingest/ingest-sink.js";
import type { RunEventHub } from "./ingest/run-event-hub.js";
import type { ControlPlaneMetrics } from "./observability/metrics.js";
import type { ControlWriter } from "./runs/control-writer.js";
import type { RunDriver } from "./runs/run-driver.js";
import type { EventBus, ProjectionRunner, RunLifecycle } from "@macp/pipeline";
import type { RunReadCache } from "./runs/run-read-cache.js";
import type { RunService } from "./runs/run-service.js";
import type { RuntimeGateway } from "./runtime/gateway.js";
import type { WebhookDelivery } from "./webhooks/webhook-delivery.js";

/** Everything route plugins and services share; built once per control-plane instance. */
export interface ControlPlaneContext {
  readonly config: ControlPlaneConfig;
  readonly database: DatabaseHandle;
  readonly runtime: RuntimeGateway;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  /** Committed run updates of every instance, over the bus (live streams subscribe here). */
  readonly hub: RunEventHub;
  /** Where runtime input goes (onto the bus, towards the projector). */
  readonly sink: IngestSink;
  /** Status transitions with their events. */
  readonly lifecycle: RunLifecycle;
  /** Where the control plane's own events and transitions go (to the projector, over the bus). */
  readonly control: ControlWriter;
  /** Launches, observes and follows runs. */
  readonly driver: RunDriver;
  readonly runs: RunService;
  /** Webhook dispatch: the queue (redeliveries) and the dispatcher (test pings). */
  readonly webhooks: WebhookDelivery;
  /** `GET /runs/:id` answers, dropped by every committed update of their run. */
  readonly runCache: RunReadCache;
  /** The event bus and, in embedded mode, the projector running in this process (readiness). */
  readonly pipeline: { readonly bus: EventBus; readonly projection: ProjectionRunner | undefined };
}

/** Options every route plugin receives. */
export interface RoutePluginOptions {
  readonly ctx: ControlPlaneContext;
}
