import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { CoreMessageType } from "@macp/protocol";

/** The part of the mode registry that decides which label values are known. */
export interface ModeNames {
  get(mode: string): { readonly descriptor: { readonly messageTypes: readonly string[] } } | undefined;
}

const CORE_TYPES: ReadonlySet<string> = new Set([
  CoreMessageType.SessionStart,
  CoreMessageType.Commitment,
  CoreMessageType.Signal,
  CoreMessageType.Progress,
]);

/**
 * Label values for an envelope. Mode and message type come from the client, and every distinct
 * label value is a new time series held forever, so unknown names are folded into one value:
 * a client sending made-up modes must not grow the runtime's memory or the scraper's.
 */
export function envelopeLabels(modes: ModeNames, envelope: { mode: string; messageType: string }): { mode: string; message_type: string } {
  const entry = envelope.mode === "" ? undefined : modes.get(envelope.mode);
  const mode = envelope.mode === "" ? "" : entry ? envelope.mode : "unregistered";
  const known = CORE_TYPES.has(envelope.messageType) || (entry?.descriptor.messageTypes.includes(envelope.messageType) ?? false);
  return { mode, message_type: known ? envelope.messageType : "other" };
}

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
