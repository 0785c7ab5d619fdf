import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import type { MacpError } from "@macp/protocol";
import { PostgresStore } from "../src/index.js";
import { storageMigrations } from "../src/postgres/postgres-schema.js";
import { logEntry, recordingLogger } from "./log-entries.js";
import { DATABASE_URL, schemaAllocator } from "./postgres-fixture.js";

/**
 * Writer fencing of the Postgres backend: a store that lost its schema lock, or whose schema
 * another writer took over, never commits another write, and the schema itself refuses two
 * accepted messages at one sequence number.
 */

const schemas = schemaAllocator("pgfence");
const WAIT_MS = 10_000;

const admin = new pg.Client({ connectionString: DATABASE_URL });
const connected = admin.connect();
const stores: PostgresStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  await schemas.dropAll();
  await admin.end();
});

async function open(schema: string, onFatal?: (error: MacpError) => void, exclusive = true): Promise<PostgresStore> {
  const store = await PostgresStore.open({
    connectionString: DATABASE_URL,
    schema,
    maxConnections: 4,
    logger: recordingLogger(),
    exclusive,
    ...(onFatal ? { onFatal } : {}),
  });
  stores.push(store);
  return store;
}

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  await connected;
  return (await admin.query<T>(text, values)).rows;
}

/** The backend holding the schema's writer lock (key `hashtext('macp-ts:<schema>')`). */
async function lockHolderPid(schema: string): Promise<number> {
  const rows = await query<{ pid: number }>(
    `select pid from pg_locks
     where locktype = 'advisory' and granted and objsubid = 1
       and ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint`,
    [`macp-ts:${schema}`],
  );
  if (rows.length !== 1) throw new Error(`expected one holder of the writer lock of ${schema}, found ${rows.length}`);
  return (rows[0] as { pid: number }).pid;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("PostgresStore writer fencing", () => {
  it("stops writing as soon as its writer-lock connection is terminated, and reports it once", async () => {
    const schema = schemas.next();
    const fatal: MacpError[] = [];
    const store = await open(schema, (error) => fatal.push(error));
    await store.append("s", [logEntry("s", 1)]);

    const [terminated] = await query<{ ok: boolean }>("select pg_terminate_backend($1) as ok", [await lockHolderPid(schema)]);
    expect(terminated?.ok).toBe(true);
    await waitFor(() => fatal.length > 0, "the lost lock to be reported");

    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ code: "INTERNAL_ERROR", message: expect.stringContaining("postgres writer-lock connection lost") });
    const refused = { code: "INTERNAL_ERROR", message: expect.stringContaining("writer-lock connection lost") };
    await expect(store.append("s", [logEntry("s", 2)])).rejects.toMatchObject(refused);
    await expect(store.writeSnapshot("s", { logLength: 1, state: "{}" })).rejects.toMatchObject(refused);
    await expect(store.saveRegistry("modes", "[]")).rejects.toMatchObject(refused);
    // Reads still work, and nothing was written after the loss.
    expect((await store.loadLog("s")).map((entry) => entry.seq)).toEqual([1]);
    // The lock is free again: a successor opens the schema and carries on from the same log.
    const successor = await open(schema);
    await successor.append("s", [logEntry("s", 2)]);
    expect((await successor.loadLog("s")).map((entry) => entry.seq)).toEqual([1, 2]);
    expect(fatal).toHaveLength(1);
  });

  it("fails a write that races a successor's takeover instead of committing it", async () => {
    const schema = schemas.next();
    const fatal: MacpError[] = [];
    const store = await open(schema, (error) => fatal.push(error));
    await store.append("s", [logEntry("s", 1)]);

    // A successor in the middle of claiming the schema: its epoch bump is not committed yet.
    await connected;
    await admin.query("begin");
    await admin.query(`update ${pg.escapeIdentifier(schema)}.writer_fence set epoch = epoch + 1, owner = 'successor'`);
    const racing = store.append("s", [logEntry("s", 2)]).then(
      () => "committed",
      (error: MacpError) => error.message,
    );
    await waitForWaitingWrite(schema);
    await admin.query("commit");

    expect(await racing).toMatch(/taken over by successor \(epoch 2\); this writer \(epoch 1\) is fenced off/);
    expect(fatal.map((error) => error.message)).toEqual([expect.stringContaining("fenced off")]);
    await expect(store.append("s", [logEntry("s", 2)])).rejects.toMatchObject({ message: expect.stringContaining("fenced off") });
    expect((await store.loadLog("s")).map((entry) => entry.seq)).toEqual([1]);
  });

  it("fences snapshots and registries of a superseded writer too", async () => {
    const schema = schemas.next();
    const store = await open(schema);
    await store.saveRegistry("modes", '["first"]');
    await query(`update ${pg.escapeIdentifier(schema)}.writer_fence set epoch = epoch + 1, owner = 'successor'`);

    await expect(store.saveRegistry("modes", '["stale"]')).rejects.toMatchObject({ message: expect.stringContaining("fenced off") });
    await expect(store.writeSnapshot("s", { logLength: 0, state: "{}" })).rejects.toMatchObject({ message: expect.stringContaining("fenced off") });
    expect(await store.loadRegistry("modes")).toBe('["first"]');
    expect(await store.loadSnapshot("s")).toBeUndefined();
  });

  it("refuses two accepted messages at one sequence number, whichever writer sends them", async () => {
    const schema = schemas.next();
    const [a, b] = [await open(schema, undefined, false), await open(schema, undefined, false)];
    await a.append("s", [logEntry("s", 1), logEntry("s", 1, { kind: "internal" })]);
    await expect(b.append("s", [logEntry("s", 1, { sender: "b" })])).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
      message: expect.stringContaining("log_entries_incoming_seq"),
    });
    // Runtime-internal records share the sequence number of the message they follow.
    await b.append("s", [logEntry("s", 1, { kind: "internal", sender: "b" })]);
    expect((await a.loadLog("s")).map((entry) => `${entry.seq}:${entry.kind}`)).toEqual(["1:incoming", "1:internal", "1:internal"]);
  });

  it("will not upgrade a schema whose log already forked, and says which sessions to repair", async () => {
    const schema = schemas.next();
    await query(`create schema ${pg.escapeIdentifier(schema)}`);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 1 }) }) });
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storageMigrations(schema) }, migrationTableSchema: schema });
    expect((await migrator.migrateTo("0001_initial")).error).toBeUndefined();
    await db.destroy();
    const table = (name: string): string => `${pg.escapeIdentifier(schema)}.${name}`;
    await query(`insert into ${table("sessions")} values ('forked', 2)`);
    for (const position of [1, 2]) {
      await query(
        `insert into ${table("log_entries")} values ('forked', $1, 7, 'incoming', 'm', 'Proposal', $2, 'a', '1.0', 0, 0, '\\x00')`,
        [position, `id-${position}`],
      );
    }

    await expect(open(schema)).rejects.toMatchObject({
      code: "INTERNAL_ERROR",
      message: expect.stringContaining("two accepted messages at one sequence number (session forked seq 7)"),
    });
  });
});

/** Until a write of `schema`'s store waits for the fence row's lock. */
async function waitForWaitingWrite(schema: string): Promise<void> {
  await waitFor(async () => {
    const rows = await query<{ n: string }>(
      `select count(*) as n from pg_stat_activity
       where wait_event_type = 'Lock' and query like '%writer_fence%' and query like $1`,
      [`%${schema}%`],
    );
    return Number(rows[0]?.n) > 0;
  }, "the racing write to wait for the fence row");
}
