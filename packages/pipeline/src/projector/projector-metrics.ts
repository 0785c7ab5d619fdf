import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import type { ProjectorObserver } from "./projector.js";

/** Prometheus metrics of a projector: the same names in the control plane (embedded) and the projection worker. */
export interface ProjectorMetrics {
  readonly inboundMessages: Counter<"mode" | "message_type">;
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
    inboundMessages: new Counter({ name: "macp_inbound_messages_total", help: "Runtime envelopes ingested", labelNames: ["mode", "message_type"], registers }),
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

/** Reports a projector's work to its metrics. */
export function metricsObserver(metrics: ProjectorMetrics): ProjectorObserver {
  return {
    inbound: (mode, messageType) => metrics.inboundMessages.inc({ mode, message_type: messageType }),
    applied: (_inputs, seconds) => metrics.foldDuration.observe(seconds),
    redelivered: (count) => metrics.redeliveries.inc(count),
    duplicates: (count) => metrics.duplicates.inc(count),
  };
}
