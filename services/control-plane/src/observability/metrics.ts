import { createProjectorMetrics } from "@macp/pipeline";
import type { ProjectorMetrics } from "@macp/pipeline";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The control plane's Prometheus metrics, one registry per instance (several may share a process in tests). */
export interface ControlPlaneMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<"method" | "path" | "status_code">;
  readonly httpRequests: Counter<"method" | "path" | "status_code">;
  readonly runTransitions: Counter<"status">;
  readonly activeStreams: Gauge;
  readonly streamReconnects: Counter;
  readonly grpcDuration: Histogram<"method" | "status">;
  readonly ingestErrors: Counter<"kind">;
  /** Projector (in-process in embedded mode; the projection worker has its own). */
  readonly projector: ProjectorMetrics;
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
