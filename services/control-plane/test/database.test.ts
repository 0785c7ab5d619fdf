import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../src/db/database.js";
import type { DatabaseHandle } from "../src/db/database.js";
import { MIGRATIONS } from "../src/db/migrations/index.js";
import { eventStore } from "@macp/pipeline";
import type { Database, NewRun } from "@macp/pipeline";
import { buildEnvelope, buildSessionStart } from "@macp/client";
import { runCreatedEvent } from "@macp/events";
import type { RawRuntimeEvent } from "@macp/events";
import { runRepository } from "../src/runs/run-repository.js";
import { DATABASE_KINDS, dropSchema, freshSchema, testDatabaseUrl } from "./support/harness.js";
import type { DatabaseKind } from "./support/harness.js";

async function open(kind: DatabaseKind, schema: string): Promise<DatabaseHandle> {
  const handle = await openDatabase(
    kind === "pglite"
      ? { kind: "pglite", dataDir: undefined }
      : { kind: "postgres", url: testDatabaseUrl(), schema, poolMax: 4, idleTimeoutMs: 1000, connectionTimeoutMs: 5000 },
  );
  await migrateToLatest(handle.db, handle.schema);
  return handle;
}

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    status: "queued",
    mode: "live",
    runtime_kind: "rust",
    principal: "p1",
    tags: JSON.stringify(["a"]),
    metadata: JSON.stringify({ environment: "staging", scenarioRef: "fraud/100%_match" }),
    ...overrides,
  };
}

describe.each(DATABASE_KINDS)("run repository on %s", (kind) => {
  const schema = freshSchema();
  let handle: DatabaseHandle;
  afterAll(async () => {
    await handle?.close();
    if (kind === "postgres") await dropSchema(schema);
  });

  it("migrates, and migrating again applies nothing", { timeout: 120_000 }, async () => {
    handle = await open(kind, schema);
    expect(await migrateToLatest(handle.db, handle.schema)).toEqual([]);
  });

  it("keeps one run per (principal, idempotency key) and tells which call created it", async () => {
    const first = await runRepository.insertOrGet(handle.db, newRun({ idempotency_key: "k1", request_hash: "h1" }));
    const again = await runRepository.insertOrGet(handle.db, newRun({ idempotency_key: "k1", request_hash: "h2" }));
    const otherPrincipal = await runRepository.insertOrGet(handle.db, newRun({ idempotency_key: "k1", principal: "p2" }));
    expect(first.created).toBe(true);
    expect(again).toEqual({ row: first.row, created: false });
    expect(otherPrincipal.created).toBe(true);
    const racing = await Promise.all(Array.from({ length: 8 }, () => runRepository.insertOrGet(handle.db, newRun({ idempotency_key: "race" }))));
    expect(racing.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(racing.map((result) => result.row.id)).size).toBe(1);
  });

  it("moves runs only along allowed transitions", async () => {
    const { row } = await runRepository.insertOrGet(handle.db, newRun());
    expect(await runRepository.transition(handle.db, row.id, "running")).toBeUndefined();
    expect((await runRepository.transition(handle.db, row.id, "starting"))?.status).toBe("starting");
    expect((await runRepository.transition(handle.db, row.id, "cancelled"))?.status).toBe("cancelled");
    expect(await runRepository.transition(handle.db, row.id, "completed")).toBeUndefined();
  });

  it("filters, searches with literal wildcards, sorts and pages", async () => {
    const base = { limit: 50, offset: 0, sortBy: "createdAt", sortOrder: "desc", includeArchived: false, includeSandbox: false } as const;
    await runRepository.insertOrGet(handle.db, newRun({ principal: "lister", tags: JSON.stringify(["x", "y"]), metadata: JSON.stringify({ environment: "prod", scenarioRef: "a_b" }) }));
    await runRepository.insertOrGet(handle.db, newRun({ principal: "lister", mode: "sandbox", metadata: JSON.stringify({ environment: "prod" }) }));
    const all = await runRepository.list(handle.db, base);
    const prod = await runRepository.list(handle.db, { ...base, environment: "prod" });
    expect(prod.total).toBe(1);
    expect(prod.rows[0]?.tags).toEqual(["x", "y"]);
    expect((await runRepository.list(handle.db, { ...base, environment: "prod", includeSandbox: true })).total).toBe(2);
    expect((await runRepository.list(handle.db, { ...base, tags: ["x", "y"] })).total).toBe(1);
    expect((await runRepository.list(handle.db, { ...base, tags: ["x", "z"] })).total).toBe(0);
    // "%" and "_" in the search text match themselves, not any character.
    expect((await runRepository.list(handle.db, { ...base, search: "100%_m" })).total).toBeGreaterThan(0);
    expect((await runRepository.list(handle.db, { ...base, search: "a%b" })).total).toBe(0);
    const page = await runRepository.list(handle.db, { ...base, limit: 2, offset: 1, sortOrder: "asc" });
    expect(page.rows).toHaveLength(2);
    expect(page.total).toBe(all.total);
    expect(page.rows[0]?.id).toBe((await runRepository.list(handle.db, { ...base, sortOrder: "asc" })).rows[1]?.id);
  });
});

describe.each(DATABASE_KINDS)("event store on %s", (kind) => {
  const schema = freshSchema();
  let handle: DatabaseHandle;
  afterAll(async () => {
    await handle?.close();
    if (kind === "postgres") await dropSchema(schema);
  });

  it("numbers each input as one block, folds projection and metrics with it, and writes a redelivery once", { timeout: 120_000 }, async () => {
    handle = await open(kind, schema);
    const { row } = await runRepository.insertOrGet(handle.db, newRun({ runtime_session_id: "s-1" }));
    const created = await handle.db.transaction().execute((trx) =>
      eventStore.appendControl(trx, row.id, { rawKey: "run.created", drafts: [runCreatedEvent({ ts: new Date().toISOString(), runId: row.id, modeName: "macp.mode.decision.v1", runtimeKind: "rust" })] }),
    );
    expect(created?.events.map((event) => [event.seq, event.type])).toEqual([[1, "run.created"]]);
    // The same control-plane step retried (e.g. after a restart) adds nothing.
    const retried = await handle.db.transaction().execute((trx) =>
      eventStore.appendControl(trx, row.id, { rawKey: "run.created", drafts: [runCreatedEvent({ ts: new Date().toISOString(), runId: row.id, modeName: "macp.mode.decision.v1", runtimeKind: "rust" })] }),
    );
    expect(retried?.duplicate).toBe(true);

    const envelope = buildSessionStart({
      mode: "macp.mode.decision.v1",
      sessionId: "0d1c7d3e-5c6b-4a1f-8e2d-3b4c5d6e7f80",
      messageId: "m-start",
      payload: { intent: "x", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "c", ttlMs: 60_000 },
    });
    const raw = { kind: "stream-envelope" as const, envelope: { ...envelope, sender: "alice" }, runtimeSequence: 0, receivedAt: new Date().toISOString() };
    const first = await handle.db.transaction().execute((trx) => eventStore.appendRaw(trx, row.id, raw));
    expect(first?.duplicate).toBe(false);
    // Seq 2 is the raw row; its canonical events follow.
    expect(first?.events[0]?.seq).toBe(3);
    const lastSeq = first?.events.at(-1)?.seq;
    expect(first?.run.last_event_seq).toBe(lastSeq);
    expect(first?.state.version).toBe(lastSeq);
    expect(first?.metrics.eventCount).toBe(1 + (first?.events.length ?? 0));

    const again = await handle.db.transaction().execute((trx) => eventStore.appendRaw(trx, row.id, { ...raw, runtimeSequence: 5, receivedAt: new Date().toISOString() }));
    expect(again?.duplicate).toBe(true);
    expect(await eventStore.metrics(handle.db, row.id)).toEqual(first?.metrics);
    expect((await eventStore.state(handle.db, row.id)).version).toBe(lastSeq);
    const rawRows = await handle.db.selectFrom("run_events_raw").select(["seq", "runtime_seq", "message_id"]).where("run_id", "=", row.id).execute();
    expect(rawRows).toEqual([{ seq: 2, runtime_seq: 0, message_id: "m-start" }]);
  });
});

describe.each(DATABASE_KINDS)("batch append on %s", (kind) => {
  const schemas = [freshSchema(), freshSchema()];
  const handles: DatabaseHandle[] = [];
  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.close()));
    if (kind === "postgres") await Promise.all(schemas.map(dropSchema));
  });

  const sessionId = "5e0c2b9a-1f4d-4c3b-9a8e-7d6c5b4a3f21";
  const at = (index: number): string => new Date(Date.UTC(2026, 11, 6, 10, 0, 0, index)).toISOString();
  const envelopeRaw = (index: number, session = sessionId): RawRuntimeEvent => ({
    kind: "stream-envelope",
    envelope: buildEnvelope({ mode: "ext.multi_round.v1", sessionId: session, messageType: "Contribute", messageId: `m-${index}`, sender: index % 2 ? "alice" : "bob", payload: new TextEncoder().encode(JSON.stringify({ value: `v${index}` })) }),
    runtimeSequence: 0,
    receivedAt: at(index),
  });
  const startRaw = (session = sessionId): RawRuntimeEvent => ({
    kind: "stream-envelope",
    envelope: { ...buildSessionStart({ mode: "ext.multi_round.v1", sessionId: session, messageId: "m-start", payload: { intent: "x", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "c", ttlMs: 60_000 } }), sender: "alice" },
    runtimeSequence: 0,
    receivedAt: at(0),
  });
  const start = startRaw();

  /** Everything a reader sees of a run, without the per-database random row ids and write times. */
  async function snapshot(handle: DatabaseHandle, runId: string) {
    const [canonical, raw, state, metrics, run, session] = await Promise.all([
      handle.db.selectFrom("run_events_canonical").select(["id", "seq", "type", "ts", "data", "subject_id", "raw_type"]).where("run_id", "=", runId).orderBy("seq").execute(),
      handle.db.selectFrom("run_events_raw").select(["seq", "raw_key", "runtime_seq", "message_id", "kind", "payload"]).where("run_id", "=", runId).orderBy("seq").execute(),
      eventStore.state(handle.db, runId),
      eventStore.metrics(handle.db, runId),
      handle.db.selectFrom("runs").select("last_event_seq").where("id", "=", runId).executeTakeFirstOrThrow(),
      handle.db.selectFrom("runtime_sessions").select("last_runtime_seq").where("run_id", "=", runId).executeTakeFirstOrThrow(),
    ]);
    return { canonical, raw, state, metrics, run, session };
  }

  async function seedRun(handle: DatabaseHandle, runId: string, session = sessionId): Promise<void> {
    await runRepository.insertOrGet(handle.db, newRun({ id: runId, runtime_session_id: session }));
    await handle.db
      .insertInto("runtime_sessions")
      .values({ run_id: runId, runtime_session_id: session, mode_name: "ext.multi_round.v1", session_state: "SESSION_STATE_OPEN", participants: JSON.stringify(["alice", "bob"]), created_at: new Date().toISOString() })
      .execute();
  }

  /** One transaction per input, numbering envelopes the way the session consumer did. */
  async function oneByOne(handle: DatabaseHandle, runId: string, raws: readonly RawRuntimeEvent[]): Promise<void> {
    let cursor = 0;
    for (const raw of raws) {
      const input = raw.kind === "stream-envelope" ? { ...raw, runtimeSequence: cursor } : raw;
      const result = await handle.db.transaction().execute((trx) => eventStore.appendRaw(trx, runId, input));
      if (raw.kind === "stream-envelope" && !result?.duplicate) cursor += 1;
    }
  }

  async function batched(handle: DatabaseHandle, runId: string, batches: readonly (readonly RawRuntimeEvent[])[]) {
    let cursor = 0;
    const duplicates: boolean[][] = [];
    for (const batch of batches) {
      const result = await handle.db.transaction().execute((trx) => eventStore.appendRawBatch(trx, runId, batch, { runtimeCursor: cursor }));
      cursor = result?.runtimeCursor ?? cursor;
      duplicates.push([...(result?.duplicates ?? [])]);
    }
    return { cursor, duplicates };
  }

  it("stores the same events, seqs, ids and projection as one-by-one appends, each input once", { timeout: 180_000 }, async () => {
    handles.push(...(await Promise.all(schemas.map((schema) => open(kind, schema)))));
    const [single, batch] = handles as [DatabaseHandle, DatabaseHandle];
    const runId = randomUUID();
    await Promise.all([seedRun(single, runId), seedRun(batch, runId)]);
    const status: RawRuntimeEvent = { kind: "stream-status", status: "opened", receivedAt: at(1) };
    const inlineError: RawRuntimeEvent = { kind: "stream-inline-error", error: { code: "FORBIDDEN", message: "no", sessionId, messageId: "m-x", details: new Uint8Array() }, receivedAt: at(7) };
    const batches: RawRuntimeEvent[][] = [
      [status, start, envelopeRaw(2), envelopeRaw(3)],
      // A redelivery of a stored envelope, and one repeated inside the batch.
      [envelopeRaw(3), envelopeRaw(4), inlineError, envelopeRaw(5), envelopeRaw(4), envelopeRaw(6)],
      [envelopeRaw(6), envelopeRaw(7)],
    ];
    await oneByOne(single, runId, batches.flat());
    const { cursor, duplicates } = await batched(batch, runId, batches);
    expect(duplicates).toEqual([
      [false, false, false, false],
      [true, false, false, false, true, false],
      [true, false],
    ]);
    // start, 2..7: seven envelopes stored once each.
    expect(cursor).toBe(7);
    const expected = await snapshot(single, runId);
    const actual = await snapshot(batch, runId);
    expect(actual.raw.map((row) => row.message_id)).toEqual([null, "m-start", "m-2", "m-3", "m-4", null, "m-5", "m-6", "m-7"]);
    expect(actual.raw.map((row) => row.runtime_seq)).toEqual([null, 0, 1, 2, 3, null, 4, 5, 6]);
    expect(actual.session.last_runtime_seq).toBe(7);
    expect(actual.canonical.length).toBeGreaterThan(actual.raw.length);
    expect(actual).toEqual(expected);

    // An empty batch and an all-duplicate batch change nothing.
    const again = await batched(batch, runId, [[], [envelopeRaw(5), start]]);
    expect(again.duplicates).toEqual([[], [true, true]]);
    expect(await snapshot(batch, runId)).toEqual(expected);
  });

  it("stores a batch whose rows need more than 65,535 bind parameters", { timeout: 180_000 }, async () => {
    const [single, batch] = handles as [DatabaseHandle, DatabaseHandle];
    const runId = randomUUID();
    const session = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    await Promise.all([seedRun(single, runId, session), seedRun(batch, runId, session)]);
    const raws = [startRaw(session), ...Array.from({ length: 4_500 }, (_, index) => envelopeRaw(index + 1, session))];
    const half = raws.slice(0, 1_000);
    await batched(single, runId, [half, raws.slice(1_000)]);
    const { cursor, duplicates } = await batched(batch, runId, [raws]);
    expect(cursor).toBe(raws.length);
    expect(duplicates[0]?.every((duplicate) => !duplicate)).toBe(true);
    const actual = await snapshot(batch, runId);
    // 15 parameters per canonical row: one statement could not hold them all.
    expect(actual.canonical.length * 15).toBeGreaterThan(65_535);
    expect(actual.raw).toHaveLength(raws.length);
    expect(actual).toEqual(await snapshot(single, runId));
  });
});

describe("migrations from replicas starting together", () => {
  it("run once; every replica ends with the same schema", async () => {
    const schema = freshSchema();
    const bootstrap = new pg.Client({ connectionString: testDatabaseUrl() });
    await bootstrap.connect();
    await bootstrap.query(`create schema "${schema}"`);
    await bootstrap.end();
    const replicas = Array.from(
      { length: 4 },
      () => new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: testDatabaseUrl(), max: 2, options: `-c search_path="${schema}"` }) }) }),
    );
    try {
      const applied = await Promise.all(replicas.map((db) => migrateToLatest(db, schema)));
      expect(applied.flat()).toEqual(Object.keys(MIGRATIONS).sort());
    } finally {
      await Promise.all(replicas.map((db) => db.destroy()));
      await dropSchema(schema);
    }
  });
});
