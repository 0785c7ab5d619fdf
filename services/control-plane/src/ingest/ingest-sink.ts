import type { RawRuntimeEvent } from "@macp/events";
import type { Kysely } from "kysely";
import type { Database, EventBus, RawRecord, RunStatus } from "@macp/pipeline";

/** What happened to one raw input. */
export interface IngestOutcome {
  /** The input was already stored (a replay after re-subscription); the bus sink cannot tell and says false. */
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
  /** The run does not exist (deleted meanwhile): nothing was stored. */
  readonly missing: boolean;
  /** Runtime cursor after the batch: past every envelope handed over. */
  readonly runtimeCursor: number;
}

/** Where runtime input goes; consumers never know which bus carries it. */
export interface IngestSink {
  /** Resolves once the input is durable (on the bus; its canonical events follow from the projector). */
  ingest(runId: string, raw: RawRuntimeEvent): Promise<IngestOutcome>;
  /** Hands over stream frames of one run, in order; envelopes are numbered from `runtimeCursor`. */
  ingestBatch(runId: string, raws: readonly StreamFrameRaw[], runtimeCursor: number): Promise<BatchIngestOutcome>;
  /** The run is no longer followed here: drop what the sink keeps for it. */
  forget(runId: string): void;
}

/**
 * The sink of every deployment: runtime input goes onto the bus (durably, in order) and the
 * projector — in-process over the in-memory bus, or the projection worker over JetStream — stores
 * it. Envelopes are numbered here, from the runtime cursor the consumer subscribed after, so their
 * position on the bus is their runtime sequence; any other input carries the count of envelopes
 * published before it, so the projector keeps the run's order whatever order the bus delivers.
 * The run status reported back is the stored one (the projector may not have applied the input yet).
 */
export function createBusSink(bus: EventBus, db: Kysely<Database>): IngestSink {
  /** Envelopes published per run (the position of the next one). */
  const published = new Map<string, number>();
  const status = async (runId: string): Promise<RunStatus | undefined> =>
    (await db.selectFrom("runs").select("status").where("id", "=", runId).executeTakeFirst())?.status;
  return {
    async ingest(runId, raw) {
      await bus.publishRaw([{ runId, raw, position: published.get(runId) ?? 0 }]);
      const current = await status(runId);
      return { duplicate: false, missing: current === undefined, status: current };
    },
    async ingestBatch(runId, raws, runtimeCursor) {
      let cursor = runtimeCursor;
      const records: RawRecord[] = raws.map((raw) => {
        if (raw.kind !== "stream-envelope") return { runId, raw, position: cursor };
        const position = cursor;
        cursor += 1;
        return { runId, raw: { ...raw, runtimeSequence: position }, position };
      });
      await bus.publishRaw(records);
      published.set(runId, cursor);
      return { missing: false, runtimeCursor: cursor };
    },
    forget(runId) {
      published.delete(runId);
    },
  };
}
