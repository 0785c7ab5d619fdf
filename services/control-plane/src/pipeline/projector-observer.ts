import type { ControlPlaneMetrics } from "../observability/metrics.js";
import type { ProjectorObserver } from "./projector.js";

/** Reports a projector's work to Prometheus metrics. */
export function metricsObserver(metrics: Pick<ControlPlaneMetrics, "inboundMessages" | "projector">): ProjectorObserver {
  return {
    inbound: (mode, messageType) => metrics.inboundMessages.inc({ mode, message_type: messageType }),
    applied: (_inputs, seconds) => metrics.projector.foldDuration.observe(seconds),
    redelivered: (count) => metrics.projector.redeliveries.inc(count),
    duplicates: (count) => metrics.projector.duplicates.inc(count),
  };
}
