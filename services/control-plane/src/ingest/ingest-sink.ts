import { sessionStateName } from "@macp/events";
import type { RawRuntimeEvent } from "@macp/events";
import type { Kysely } from "kysely";
import type { Database, RunStatus } from "../db/schema.js";
import type { ControlPlaneMetrics } from "../observability/metrics.js";
import type { RunLifecycle } from "../runs/run-lifecycle.js";
import { eventStore } from "./event-store.js";

/** What happened to one raw input. */
export interface IngestOutcome {
  /** The input was already stored (a replay after re-subscription). */
  readonly duplicate: boolean;
  /** The run does not exist (deleted meanwhile). */
  readonly missing: boolean;
  /** The run's status after the input. */
  readonly status: RunStatus | undefined;
}

/** Stream frames: the inputs a session consumer hands over in batches. */
export type StreamFrameRaw = Extract<RawRuntimeEvent, { kind: "stream-envelope" | "stream-inline-error" }>;

/** What happened to a batch of stream frames. */
export interface BatchIngestOutcome {
  /** Per frame, in order: it was already stored. */
  readonly duplicates: readonly boolean[];
  /** The run does not exist (deleted meanwhile): nothing was stored. */
  readonly missing: boolean;
  /** Runtime cursor after the batch: past every stored envelope. */
  readonly runtimeCursor: number;
}

/**
 * Where runtime input goes. Embedded mode persists in-process; a later deployment puts a
 * JetStream subject per run behind the same interface, so consumers never know which.
 */
export interface IngestSink {
  /** Resolves once the input, its canonical events, projection and metrics are durable. */
  ingest(runId: string, raw: RawRuntimeEvent): Promise<IngestOutcome>;
  /**
   * Stores stream frames of one run in one transaction, in order. Envelopes are numbered from
   * `runtimeCursor`, skipping duplicates, as one-by-one ingestion would have numbered them.
   */
  ingestBatch(runId: string, raws: readonly StreamFrameRaw[], runtimeCursor: number): Promise<BatchIngestOutcome>;
}

/** Session states that move the run (the runtime's lifecycle is the only source of terminal state). */
const STATUS_OF_SESSION: Readonly<Record<string, RunStatus>> = {
  SESSION_STATE_RESOLVED: "completed",
  SESSION_STATE_EXPIRED: "failed",
  SESSION_STATE_CANCELLED: "cancelled",
  SESSION_STATE_SUSPENDED: "suspended",
  SESSION_STATE_OPEN: "running",
};

/** The in-process sink: one transaction per input or per batch of stream frames (R-4's single writer, in embedded form). */
export function createInProcessSink(db: Kysely<Database>, lifecycle: RunLifecycle, metrics: ControlPlaneMetrics): IngestSink {
  return {
    async ingest(runId, raw) {
      const { append, transition } = await db.transaction().execute(async (trx) => {
        const append = await eventStore.appendRaw(trx, runId, raw);
        if (!append || append.duplicate || raw.kind !== "session-snapshot") return { append, transition: undefined };
        const target = STATUS_OF_SESSION[sessionStateName(raw.metadata.state)];
        // OPEN only moves a suspended run back (binding → running is the launcher's step).
        if (target === undefined || (target === "running" && append.run.status !== "suspended")) return { append, transition: undefined };
        const failure = target === "failed" ? { code: "SESSION_EXPIRED", message: "the session's TTL expired" } : undefined;
        return { append, transition: await lifecycle.transition(trx, runId, target, failure ? { failure } : {}) };
      });
      if (raw.kind === "stream-envelope" && append && !append.duplicate) {
        metrics.inboundMessages.inc({ mode: raw.envelope.mode, message_type: raw.envelope.messageType });
      }
      lifecycle.publish(append);
      if (transition) lifecycle.published(transition);
      const status = transition?.kind === "moved" || transition?.kind === "already" || transition?.kind === "refused" ? transition.run.status : append?.run.status;
      return { duplicate: append?.duplicate ?? false, missing: append === undefined, status };
    },
    async ingestBatch(runId, raws, runtimeCursor) {
      const append = await db.transaction().execute((trx) => eventStore.appendRawBatch(trx, runId, raws, { runtimeCursor }));
      if (!append) return { duplicates: raws.map(() => false), missing: true, runtimeCursor };
      raws.forEach((raw, index) => {
        if (raw.kind === "stream-envelope" && !append.duplicates[index]) {
          metrics.inboundMessages.inc({ mode: raw.envelope.mode, message_type: raw.envelope.messageType });
        }
      });
      // One update in seq order, after the commit.
      lifecycle.publish({ duplicate: false, run: append.run, events: append.events, state: append.state, metrics: append.metrics });
      return { duplicates: append.duplicates, missing: false, runtimeCursor: append.runtimeCursor ?? runtimeCursor };
    },
  };
}
