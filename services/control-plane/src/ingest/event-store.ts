import { applyEvent, applyMetricsEvent, emptyMetricsSummary, emptyRunState, normalizeContextFor, normalizeRawEvent, rawEventKey, rawEventToJson, sequenceEvents } from "@macp/events";
import type { CanonicalEvent, EventDraft, MetricsSummary, RawRuntimeEvent, RunStateProjection } from "@macp/events";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Insertable, Kysely, Transaction } from "kysely";
import type { Database, RunEventsRawTable, RunRow } from "../db/schema.js";
import { RUN_STATE_SCHEMA_VERSION_STORED, fromEventRow, toEventRow } from "./event-rows.js";

type Trx = Transaction<Database>;

/** What one append wrote. */
export interface AppendResult {
  /** The raw input was already stored: nothing was written. */
  readonly duplicate: boolean;
  readonly run: RunRow;
  readonly events: readonly CanonicalEvent[];
  readonly state: RunStateProjection;
  readonly metrics: MetricsSummary;
}

/** What a rebuild folded. */
export interface RebuildResult {
  /** Seq of the last canonical event folded (0 when the run has none). */
  readonly latestSeq: number;
  readonly eventCount: number;
  readonly state: RunStateProjection;
  readonly metrics: MetricsSummary;
}

/** What one batch append wrote, per raw input and in total. */
export interface BatchAppendResult {
  readonly run: RunRow;
  /** Per input, in order: true when it was already stored (or came earlier in the batch). */
  readonly duplicates: readonly boolean[];
  /** Canonical events of every stored input, in seq order. */
  readonly events: readonly CanonicalEvent[];
  readonly state: RunStateProjection;
  readonly metrics: MetricsSummary;
  /** Runtime cursor after the batch (see {@link BatchAppendOptions.runtimeCursor}). */
  readonly runtimeCursor: number | undefined;
}

/** Options of {@link eventStore.appendRawBatch}. */
export interface BatchAppendOptions {
  /**
   * When set, stream envelopes are numbered from this runtime cursor in order, skipping
   * duplicates, exactly as a consumer awaiting each append one by one would have numbered them;
   * their own `runtimeSequence` is replaced.
   */
  readonly runtimeCursor?: number;
}

/**
 * Postgres accepts at most 65,535 bind parameters per statement; PGlite failed on 60,000 in the
 * tests (32,767 is the signed 16-bit bound). Multi-row inserts and key lookups stay below both.
 */
const MAX_BIND_PARAMETERS = 32_000;

/** A control-plane batch: drafts plus the stable key their ids derive from. */
export interface ControlPlaneBatch {
  readonly rawKey: string;
  readonly drafts: readonly EventDraft[];
}

/**
 * The only writer of a run's `seq`, canonical events, projection and metrics. Each call is one
 * transaction holding the run row lock: the raw row takes the first number of the block and its
 * canonical events the following ones (control-plane.md §1.8); projection and metrics are folded
 * and stored in the same transaction, so a crash never leaves them behind the events.
 */
export const eventStore = {
  /** Appends a runtime input, normalized against the run's current projection. Idempotent per raw key. */
  async appendRaw(trx: Trx, runId: string, raw: RawRuntimeEvent): Promise<AppendResult | undefined> {
    const locked = await lock(trx, runId);
    if (!locked) return undefined;
    const key = rawEventKey(raw);
    const seen = await trx.selectFrom("run_events_raw").select("id").where("run_id", "=", runId).where("raw_key", "=", key).executeTakeFirst();
    const { state, metrics } = await readModels(trx, runId);
    if (seen) return { duplicate: true, run: locked, events: [], state, metrics };
    const drafts = normalizeRawEvent(raw, normalizeContextFor(state, locked.trace_id ? { trace: { traceId: locked.trace_id } } : {}));
    const rawSeq = locked.last_event_seq + 1;
    const { events, nextSeq } = sequenceEvents({ runId, rawKey: key, drafts, firstSeq: rawSeq + 1 });
    await trx.insertInto("run_events_raw").values(rawRow(runId, rawSeq, key, raw)).execute();
    if (raw.kind === "stream-envelope") {
      await trx
        .updateTable("runtime_sessions")
        .set({ last_runtime_seq: sql`greatest(last_runtime_seq, ${raw.runtimeSequence + 1})`, updated_at: sql`now()` })
        .where("run_id", "=", runId)
        .execute();
    }
    return persist(trx, locked, events, nextSeq - 1, state, metrics);
  },

  /**
   * Appends many runtime inputs of one run in one transaction (group commit): one run lock, one
   * raw-key lookup, one projection/metrics read and write, multi-row inserts. Seqs, event ids and
   * the projection are the same as appending the inputs one by one in order; an input already
   * stored, or earlier in the batch, is written once.
   */
  async appendRawBatch(trx: Trx, runId: string, raws: readonly RawRuntimeEvent[], options: BatchAppendOptions = {}): Promise<BatchAppendResult | undefined> {
    const locked = await lock(trx, runId);
    if (!locked) return undefined;
    const keys = raws.map(rawEventKey);
    const seen = new Set<string>();
    const unique = [...new Set(keys)];
    for (const chunk of chunks(unique, MAX_BIND_PARAMETERS - 1)) {
      const rows = await trx.selectFrom("run_events_raw").select("raw_key").where("run_id", "=", runId).where("raw_key", "in", chunk).execute();
      for (const row of rows) seen.add(row.raw_key);
    }
    const models = await readModels(trx, runId);
    let state = models.state;
    let metrics = models.metrics;
    let cursor = options.runtimeCursor;
    let lastSeq = locked.last_event_seq;
    let maxRuntimeSeq: number | undefined;
    const duplicates: boolean[] = [];
    const rawRows: Insertable<RunEventsRawTable>[] = [];
    const events: CanonicalEvent[] = [];
    const trace = locked.trace_id ? { trace: { traceId: locked.trace_id } } : {};
    raws.forEach((input, index) => {
      const key = keys[index] as string;
      if (seen.has(key)) {
        duplicates.push(true);
        return;
      }
      seen.add(key);
      duplicates.push(false);
      let raw = input;
      if (raw.kind === "stream-envelope") {
        if (cursor !== undefined) {
          raw = { ...raw, runtimeSequence: cursor };
          cursor += 1;
        }
        maxRuntimeSeq = Math.max(maxRuntimeSeq ?? raw.runtimeSequence, raw.runtimeSequence);
      }
      const drafts = normalizeRawEvent(raw, normalizeContextFor(state, trace));
      const rawSeq = lastSeq + 1;
      const sequenced = sequenceEvents({ runId, rawKey: key, drafts, firstSeq: rawSeq + 1 });
      rawRows.push(rawRow(runId, rawSeq, key, raw));
      events.push(...sequenced.events);
      state = sequenced.events.reduce(applyEvent, state);
      metrics = sequenced.events.reduce(applyMetricsEvent, metrics);
      lastSeq = sequenced.nextSeq - 1;
    });
    if (rawRows.length === 0) return { run: locked, duplicates, events: [], state, metrics, runtimeCursor: cursor };
    for (const chunk of chunks(rawRows, Math.floor(MAX_BIND_PARAMETERS / RAW_COLUMNS))) await trx.insertInto("run_events_raw").values(chunk).execute();
    if (maxRuntimeSeq !== undefined) {
      await trx
        .updateTable("runtime_sessions")
        .set({ last_runtime_seq: sql`greatest(last_runtime_seq, ${maxRuntimeSeq + 1})`, updated_at: sql`now()` })
        .where("run_id", "=", runId)
        .execute();
    }
    const written = await persistFolded(trx, locked, events, lastSeq, state, metrics);
    return { run: written.run, duplicates, events, state, metrics, runtimeCursor: cursor };
  },

  /** Appends control-plane events (run.created, session.bound, …) as one block. */
  async appendControl(trx: Trx, runId: string, batch: ControlPlaneBatch): Promise<AppendResult | undefined> {
    const locked = await lock(trx, runId);
    if (!locked) return undefined;
    const { state, metrics } = await readModels(trx, runId);
    if (batch.drafts.length === 0) return { duplicate: false, run: locked, events: [], state, metrics };
    const { events, nextSeq } = sequenceEvents({ runId, rawKey: batch.rawKey, drafts: batch.drafts, firstSeq: locked.last_event_seq + 1 });
    // A retried step (e.g. after a restart) derives the same ids: keep only events not yet stored.
    const stored = new Set(
      (await trx.selectFrom("run_events_canonical").select("id").where("id", "in", events.map((event) => event.id)).execute()).map((row) => row.id),
    );
    const fresh = events.filter((event) => !stored.has(event.id));
    if (fresh.length === 0) return { duplicate: true, run: locked, events: [], state, metrics };
    return persist(trx, locked, fresh, nextSeq - 1, state, metrics);
  },

  /**
   * Refolds the projection and metrics of `runId` from its stored canonical events (page by page)
   * and stores them, holding the run lock so no append interleaves. `undefined` for an unknown run.
   */
  async rebuild(trx: Trx, runId: string, pageSize = 1000): Promise<RebuildResult | undefined> {
    const locked = await lock(trx, runId);
    if (!locked) return undefined;
    let state = emptyRunState(runId);
    let metrics = emptyMetricsSummary(runId);
    let cursor = 0;
    let eventCount = 0;
    for (;;) {
      const rows = await trx.selectFrom("run_events_canonical").selectAll().where("run_id", "=", runId).where("seq", ">", cursor).orderBy("seq").limit(pageSize).execute();
      for (const event of rows.map(fromEventRow)) {
        state = applyEvent(state, event);
        metrics = applyMetricsEvent(metrics, event);
        cursor = event.seq;
        eventCount += 1;
      }
      if (rows.length < pageSize) break;
    }
    await storeModels(trx, runId, state, metrics);
    return { latestSeq: cursor, eventCount, state, metrics };
  },

  /** The stored projection, or the empty one. */
  async state(db: Kysely<Database> | Trx, runId: string): Promise<RunStateProjection> {
    return (await readModels(db, runId)).state;
  },

  async metrics(db: Kysely<Database> | Trx, runId: string): Promise<MetricsSummary> {
    return (await readModels(db, runId)).metrics;
  },
};

async function lock(trx: Trx, runId: string): Promise<RunRow | undefined> {
  return trx.selectFrom("runs").selectAll().where("id", "=", runId).forUpdate().executeTakeFirst();
}

async function readModels(db: Kysely<Database> | Trx, runId: string): Promise<{ state: RunStateProjection; metrics: MetricsSummary }> {
  const [projection, metrics] = await Promise.all([
    db.selectFrom("run_projections").select("state").where("run_id", "=", runId).executeTakeFirst(),
    db.selectFrom("run_metrics").select("summary").where("run_id", "=", runId).executeTakeFirst(),
  ]);
  return {
    state: (projection?.state as unknown as RunStateProjection | undefined) ?? emptyRunState(runId),
    metrics: (metrics?.summary as unknown as MetricsSummary | undefined) ?? emptyMetricsSummary(runId),
  };
}

/** Columns of a raw row (bind parameters per row of a multi-row insert). */
const RAW_COLUMNS = 10;
/** Columns of a canonical row. */
const CANONICAL_COLUMNS = 15;

function rawRow(runId: string, seq: number, key: string, raw: RawRuntimeEvent): Insertable<RunEventsRawTable> {
  return {
    id: randomUUID(),
    run_id: runId,
    seq,
    raw_key: key,
    runtime_seq: raw.kind === "stream-envelope" ? raw.runtimeSequence : null,
    message_id: raw.kind === "stream-envelope" ? raw.envelope.messageId : null,
    ts: raw.receivedAt,
    kind: raw.kind,
    source_name: "runtime",
    payload: JSON.stringify(rawEventToJson(raw)),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

async function persist(
  trx: Trx,
  run: RunRow,
  events: readonly CanonicalEvent[],
  lastSeq: number,
  stateBefore: RunStateProjection,
  metricsBefore: MetricsSummary,
): Promise<AppendResult> {
  const state = events.reduce(applyEvent, stateBefore);
  const metrics = events.reduce(applyMetricsEvent, metricsBefore);
  return persistFolded(trx, run, events, lastSeq, state, metrics);
}

/** Writes canonical events and the already folded projection and metrics; moves the run's cursor. */
async function persistFolded(
  trx: Trx,
  run: RunRow,
  events: readonly CanonicalEvent[],
  lastSeq: number,
  state: RunStateProjection,
  metrics: MetricsSummary,
): Promise<AppendResult> {
  for (const chunk of chunks(events, Math.floor(MAX_BIND_PARAMETERS / CANONICAL_COLUMNS))) {
    await trx
      .insertInto("run_events_canonical")
      .values(chunk.map(toEventRow))
      .onConflict((conflict) => conflict.column("id").doNothing())
      .execute();
  }
  await storeModels(trx, run.id, state, metrics);
  const updated = await trx
    .updateTable("runs")
    .set({ last_event_seq: lastSeq, updated_at: sql`now()` })
    .where("id", "=", run.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { duplicate: false, run: updated, events, state, metrics };
}

async function storeModels(trx: Trx, runId: string, state: RunStateProjection, metrics: MetricsSummary): Promise<void> {
  const stateJson = JSON.stringify(state);
  const metricsJson = JSON.stringify(metrics);
  await trx
    .insertInto("run_projections")
    .values({ run_id: runId, version: state.version, schema_version: RUN_STATE_SCHEMA_VERSION_STORED, state: stateJson })
    .onConflict((conflict) => conflict.column("run_id").doUpdateSet({ version: state.version, schema_version: RUN_STATE_SCHEMA_VERSION_STORED, state: stateJson, updated_at: sql`now()` }))
    .execute();
  await trx
    .insertInto("run_metrics")
    .values({ run_id: runId, version: metrics.version, summary: metricsJson })
    .onConflict((conflict) => conflict.column("run_id").doUpdateSet({ version: metrics.version, summary: metricsJson, updated_at: sql`now()` }))
    .execute();
}
