import { applyEvent, applyMetricsEvent, emptyMetricsSummary, emptyRunState, normalizeContextFor, normalizeRawEvent, rawEventKey, rawEventToJson, sequenceEvents } from "@macp/events";
import type { CanonicalEvent, EventDraft, MetricsSummary, RawRuntimeEvent, RunStateProjection } from "@macp/events";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Insertable, Kysely, OperationNodeSource, QueryCreator, Transaction } from "kysely";
import type { Database, RunEventsCanonicalTable, RunEventsRawTable, RunRow } from "./schema.js";
import { RUN_STATE_SCHEMA_VERSION_STORED, fromEventRow, toEventRow } from "./event-rows.js";

type Trx = Transaction<Database>;

/** What one append wrote. */
export interface AppendResult {
  /** The raw input was already stored: nothing was written. */
  readonly duplicate: boolean;
  /** The run's last seq before this append (its events follow it); `run.last_event_seq` is the one after. */
  readonly previousSeq: number;
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
  /** The run's last seq before this append (its events follow it); `run.last_event_seq` is the one after. */
  readonly previousSeq: number;
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

/** Options of {@link eventStore.appendControl}. */
export interface AppendControlOptions {
  /** The run row as the caller's transaction holds it locked (skips taking the lock again). */
  readonly locked?: RunRow;
  /** The run was inserted by the caller's transaction: it has no events, projection or metrics yet. */
  readonly created?: boolean;
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
    const { state, metrics, seenRawKeys } = await readModels(trx, runId, { rawKeys: [key] });
    const previousSeq = locked.last_event_seq;
    if (seenRawKeys.has(key)) return { duplicate: true, previousSeq, run: locked, events: [], state, metrics };
    const drafts = normalizeRawEvent(raw, normalizeContextFor(state, locked.trace_id ? { trace: { traceId: locked.trace_id } } : {}));
    const rawSeq = locked.last_event_seq + 1;
    const { events, nextSeq } = sequenceEvents({ runId, rawKey: key, drafts, firstSeq: rawSeq + 1 });
    const folded = { state: events.reduce(applyEvent, state), metrics: events.reduce(applyMetricsEvent, metrics) };
    const run = await write(trx, runId, {
      rawRows: [rawRow(runId, rawSeq, key, raw)],
      runtimeCursor: raw.kind === "stream-envelope" ? raw.runtimeSequence + 1 : undefined,
      events,
      lastSeq: nextSeq - 1,
      ...folded,
    });
    return { duplicate: false, previousSeq, run, events, ...folded };
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
    const models = await readModels(trx, runId, { rawKeys: [...new Set(keys)] });
    const seen = new Set(models.seenRawKeys);
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
    const previousSeq = locked.last_event_seq;
    if (rawRows.length === 0) return { previousSeq, run: locked, duplicates, events: [], state, metrics, runtimeCursor: cursor };
    const run = await write(trx, runId, { rawRows, runtimeCursor: maxRuntimeSeq === undefined ? undefined : maxRuntimeSeq + 1, events, lastSeq, state, metrics });
    return { previousSeq, run, duplicates, events, state, metrics, runtimeCursor: cursor };
  },

  /**
   * Appends control-plane events (run.created, session.bound, …) as one block. `options.locked`:
   * the caller already holds the row lock of this run in `trx` (e.g. it just inserted or updated
   * the row) and passes the row as it is now; `options.created` additionally says the run was
   * inserted in `trx`, so it has no events, projection or metrics yet.
   */
  async appendControl(trx: Trx, runId: string, batch: ControlPlaneBatch, options: AppendControlOptions = {}): Promise<AppendResult | undefined> {
    const locked = options.locked ?? (await lock(trx, runId));
    if (!locked) return undefined;
    const previousSeq = locked.last_event_seq;
    if (batch.drafts.length === 0) return { duplicate: false, previousSeq, run: locked, events: [], ...(await readModels(trx, runId)) };
    const { events, nextSeq } = sequenceEvents({ runId, rawKey: batch.rawKey, drafts: batch.drafts, firstSeq: locked.last_event_seq + 1 });
    // A retried step (e.g. after a restart) derives the same ids: keep only events not yet stored.
    const models = options.created === true ? { state: emptyRunState(runId), metrics: emptyMetricsSummary(runId), storedEventIds: new Set<string>() } : await readModels(trx, runId, { eventIds: events.map((event) => event.id) });
    const fresh = events.filter((event) => !models.storedEventIds.has(event.id));
    if (fresh.length === 0) return { duplicate: true, previousSeq, run: locked, events: [], state: models.state, metrics: models.metrics };
    const state = fresh.reduce(applyEvent, models.state);
    const metrics = fresh.reduce(applyMetricsEvent, models.metrics);
    const run = await write(trx, runId, { rawRows: [], runtimeCursor: undefined, events: fresh, lastSeq: nextSeq - 1, state, metrics });
    return { duplicate: false, previousSeq, run, events: fresh, state, metrics };
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

/** What {@link readModels} reads besides the projection and metrics. */
interface ModelLookups {
  /** Raw keys to look up among the run's stored raw inputs. */
  readonly rawKeys?: readonly string[];
  /** Canonical event ids to look up among the stored events. */
  readonly eventIds?: readonly string[];
}

/**
 * The stored projection and metrics (or the empty ones) and which of the given raw keys and event
 * ids are stored, in one statement (one round trip: on a loaded host each costs milliseconds).
 * Inside an append it runs after the row lock was taken, so it sees every earlier append.
 */
async function readModels(
  db: Kysely<Database> | Trx,
  runId: string,
  lookups: ModelLookups = {},
): Promise<{ state: RunStateProjection; metrics: MetricsSummary; seenRawKeys: Set<string>; storedEventIds: Set<string> }> {
  const rawKeys = lookups.rawKeys ?? [];
  const eventIds = lookups.eventIds ?? [];
  // Huge lookups (more bind parameters than a statement takes) are made in chunks of their own.
  const inline = rawKeys.length + eventIds.length <= MAX_BIND_PARAMETERS - 2;
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom("run_projections").select("state").where("run_id", "=", runId).as("state"),
      eb.selectFrom("run_metrics").select("summary").where("run_id", "=", runId).as("summary"),
      inline && rawKeys.length > 0
        ? eb.selectFrom("run_events_raw").select(sql<string[]>`coalesce(json_agg(raw_key), '[]'::json)`.as("keys")).where("run_id", "=", runId).where("raw_key", "in", rawKeys).as("seen_raw_keys")
        : sql<string[]>`'[]'::json`.as("seen_raw_keys"),
      inline && eventIds.length > 0
        ? eb.selectFrom("run_events_canonical").select(sql<string[]>`coalesce(json_agg(id), '[]'::json)`.as("ids")).where("id", "in", eventIds).as("stored_event_ids")
        : sql<string[]>`'[]'::json`.as("stored_event_ids"),
    ])
    .executeTakeFirstOrThrow();
  const seenRawKeys = new Set(row.seen_raw_keys ?? []);
  const storedEventIds = new Set(row.stored_event_ids ?? []);
  if (!inline) {
    for (const chunk of chunks(rawKeys, MAX_BIND_PARAMETERS - 1)) {
      for (const found of await db.selectFrom("run_events_raw").select("raw_key").where("run_id", "=", runId).where("raw_key", "in", chunk).execute()) seenRawKeys.add(found.raw_key);
    }
    for (const chunk of chunks(eventIds, MAX_BIND_PARAMETERS)) {
      for (const found of await db.selectFrom("run_events_canonical").select("id").where("id", "in", chunk).execute()) storedEventIds.add(found.id);
    }
  }
  return {
    state: (row.state as unknown as RunStateProjection | null) ?? emptyRunState(runId),
    metrics: (row.summary as unknown as MetricsSummary | null) ?? emptyMetricsSummary(runId),
    seenRawKeys,
    storedEventIds,
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

/** What one append writes. */
interface AppendWrite {
  readonly rawRows: readonly Insertable<RunEventsRawTable>[];
  /** New `runtime_sessions.last_runtime_seq` (kept when it is higher already); undefined: unchanged. */
  readonly runtimeCursor: number | undefined;
  readonly events: readonly CanonicalEvent[];
  readonly lastSeq: number;
  readonly state: RunStateProjection;
  readonly metrics: MetricsSummary;
}

/** Bind parameters of the statement's fixed part (session cursor, projection, metrics, run). */
const FIXED_PARAMETERS = 24;

/**
 * Writes raw rows, canonical events, the session cursor, projection and metrics and moves the
 * run's `last_event_seq`, as one statement of data-modifying CTEs (one round trip instead of
 * six). Rows beyond one statement's bind-parameter budget are inserted first, in chunks.
 */
async function write(trx: Trx, runId: string, append: AppendWrite): Promise<RunRow> {
  const canonicalRows = append.events.map(toEventRow);
  let rawRows = append.rawRows;
  let eventRows = canonicalRows;
  if (rawRows.length * RAW_COLUMNS + eventRows.length * CANONICAL_COLUMNS > MAX_BIND_PARAMETERS - FIXED_PARAMETERS) {
    for (const chunk of chunks(rawRows, Math.floor(MAX_BIND_PARAMETERS / RAW_COLUMNS))) await trx.insertInto("run_events_raw").values(chunk).execute();
    for (const chunk of chunks(eventRows, Math.floor(MAX_BIND_PARAMETERS / CANONICAL_COLUMNS))) await insertEvents(trx, chunk).execute();
    rawRows = [];
    eventRows = [];
  }
  const stateJson = JSON.stringify(append.state);
  const metricsJson = JSON.stringify(append.metrics);
  const { state, metrics, runtimeCursor, lastSeq } = append;
  let query: QueryCreator<Database> = trx;
  // The CTEs are never referenced: Postgres runs every data-modifying CTE to completion anyway.
  const cte = (name: string, build: (db: QueryCreator<Database>) => OperationNodeSource): void => {
    query = query.with(name, build as never) as unknown as QueryCreator<Database>;
  };
  cte("stored_projection", (db) =>
    db
      .insertInto("run_projections")
      .values({ run_id: runId, version: state.version, schema_version: RUN_STATE_SCHEMA_VERSION_STORED, state: stateJson })
      .onConflict((conflict) => conflict.column("run_id").doUpdateSet({ version: state.version, schema_version: RUN_STATE_SCHEMA_VERSION_STORED, state: stateJson, updated_at: sql`now()` })),
  );
  cte("stored_metrics", (db) =>
    db
      .insertInto("run_metrics")
      .values({ run_id: runId, version: metrics.version, summary: metricsJson })
      .onConflict((conflict) => conflict.column("run_id").doUpdateSet({ version: metrics.version, summary: metricsJson, updated_at: sql`now()` })),
  );
  if (rawRows.length > 0) cte("stored_raw", (db) => db.insertInto("run_events_raw").values([...rawRows]));
  if (eventRows.length > 0) cte("stored_events", (db) => insertEvents(db, eventRows));
  if (runtimeCursor !== undefined) {
    cte("stored_cursor", (db) =>
      db
        .updateTable("runtime_sessions")
        .set({ last_runtime_seq: sql`greatest(last_runtime_seq, ${runtimeCursor})`, updated_at: sql`now()` })
        .where("run_id", "=", runId),
    );
  }
  return query.updateTable("runs").set({ last_event_seq: lastSeq, updated_at: sql`now()` }).where("id", "=", runId).returningAll().executeTakeFirstOrThrow();
}

function insertEvents(db: Kysely<Database> | Trx | QueryCreator<Database>, rows: readonly Insertable<RunEventsCanonicalTable>[]) {
  return db
    .insertInto("run_events_canonical")
    .values([...rows])
    .onConflict((conflict) => conflict.column("id").doNothing());
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
