import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The control plane's Prometheus metrics, one registry per instance (several may share a process in tests). */
export interface ControlPlaneMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<"method" | "path" | "status_code">;
  readonly httpRequests: Counter<"method" | "path" | "status_code">;
  readonly runTransitions: Counter<"status">;
  readonly activeStreams: Gauge;
  readonly streamReconnects: Counter;
  readonly inboundMessages: Counter<"mode" | "message_type">;
  readonly grpcDuration: Histogram<"method" | "status">;
  readonly ingestErrors: Counter<"kind">;
  /** Projector (in-process in embedded mode; the projection worker has its own). */
  readonly projector: ProjectorMetrics;
}

/** Metrics of a projector: the same names in the control plane (embedded) and the projection worker. */
export interface ProjectorMetrics {
  readonly foldDuration: Histogram;
  readonly redeliveries: Counter;
  readonly duplicates: Counter;
  readonly consumerLag: Gauge<"partition">;
  readonly partitionsHeld: Gauge;
}

/** Registers the projector metrics on `registry`. */
export function createProjectorMetrics(registry: Registry): ProjectorMetrics {
  const registers = [registry];
  return {
    foldDuration: new Histogram({
      name: "macp_projector_fold_duration_seconds",
      help: "Time to normalize, fold and store one transaction of raw inputs",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    redeliveries: new Counter({ name: "macp_projector_redeliveries_total", help: "Raw inputs the bus delivered again", registers }),
    duplicates: new Counter({ name: "macp_projector_duplicates_total", help: "Raw inputs already stored (changed nothing)", registers }),
    consumerLag: new Gauge({ name: "macp_projector_consumer_lag", help: "Raw inputs of a partition not yet acknowledged", labelNames: ["partition"], registers }),
    partitionsHeld: new Gauge({ name: "macp_projector_partitions_held", help: "Raw partitions this process projects", registers }),
  };
}

/** Creates the registry with Node process metrics and every custom metric. */
export function createMetrics(): ControlPlaneMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route pattern",
      labelNames: ["method", "path", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    httpRequests: new Counter({ name: "http_requests_total", help: "HTTP requests by route pattern", labelNames: ["method", "path", "status_code"], registers }),
    runTransitions: new Counter({ name: "run_state_transitions_total", help: "Run status transitions by target status", labelNames: ["status"], registers }),
    activeStreams: new Gauge({ name: "active_runtime_streams", help: "Runtime StreamSession subscriptions held open", registers }),
    streamReconnects: new Counter({ name: "macp_stream_reconnects_total", help: "Re-subscriptions after a runtime stream ended or failed", registers }),
    inboundMessages: new Counter({ name: "macp_inbound_messages_total", help: "Runtime envelopes ingested", labelNames: ["mode", "message_type"], registers }),
    grpcDuration: new Histogram({
      name: "grpc_call_duration_seconds",
      help: "Unary runtime call duration",
      labelNames: ["method", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    ingestErrors: new Counter({ name: "macp_ingest_errors_total", help: "Runtime events that could not be decoded or persisted", labelNames: ["kind"], registers }),
    projector: createProjectorMetrics(registry),
  };
}
