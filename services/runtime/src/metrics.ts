import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of the runtime, on a registry of its own (never the global one). */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly accepted: Counter<"mode" | "message_type">;
  readonly rejected: Counter<"mode" | "code">;
  readonly sendLatency: Histogram<"outcome">;
  readonly openSessions: Gauge;
  readonly streamSubscribers: Gauge;

  constructor(openSessions: () => number, streamSubscribers: () => number) {
    collectDefaultMetrics({ register: this.registry });
    this.accepted = new Counter({
      name: "macp_messages_accepted_total",
      help: "Envelopes accepted (duplicates excluded), by mode and message type.",
      labelNames: ["mode", "message_type"],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: "macp_messages_rejected_total",
      help: "Envelopes rejected, by mode and MACP error code.",
      labelNames: ["mode", "code"],
      registers: [this.registry],
    });
    this.sendLatency = new Histogram({
      name: "macp_send_duration_seconds",
      help: "Time from receiving an envelope to its acknowledgement.",
      labelNames: ["outcome"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.openSessions = new Gauge({
      name: "macp_open_sessions",
      help: "Sessions currently in the OPEN state.",
      registers: [this.registry],
      collect() {
        this.set(openSessions());
      },
    });
    this.streamSubscribers = new Gauge({
      name: "macp_stream_subscribers",
      help: "Live StreamSession subscriptions.",
      registers: [this.registry],
      collect() {
        this.set(streamSubscribers());
      },
    });
  }
}
