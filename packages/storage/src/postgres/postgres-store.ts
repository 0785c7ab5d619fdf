import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import type { MacpError } from "@macp/protocol";
import { Kysely, Migrator, PostgresDialect, sql, type RawBuilder } from "kysely";
import type { LogEntry, LogEntryKind, RegistryKind, SessionStore, StorageUsage, StoredSnapshot } from "@macp/core";
import { KeyedQueue } from "../keyed-queue.js";
import { storageMigrations, type StorageDatabase } from "./postgres-schema.js";
import { storageFailed, withStorageErrors } from "../storage-error.js";
import { consoleLogger, type StorageLogger } from "../storage-logger.js";
import { validateEntries, validateSnapshot } from "../validate-input.js";

/** Settings of the Postgres backend. */
export interface PostgresStoreOptions {
  /** libpq-style URL, e.g. `postgres://user@host:5432/db`. */
  readonly connectionString: string;
  /** Schema holding the tables; created by `migrate()`. Default `macp`. */
  readonly schema?: string;
  /** Pool size (default 10). */
  readonly maxConnections?: number;
  /** Receives connection errors and configuration warnings; defaults to the console. */
  readonly logger?: StorageLogger;
  /**
   * Hold the schema's writer lock (default true): a second store on the same schema is refused,
   * because each runtime keeps live session state in memory and two writers would interleave
   * conflicting histories. It also fences every write (see the class). Only tests of raw appends
   * and the benchmark's unfenced baseline turn it off.
   */
  readonly exclusive?: boolean;
  /**
   * Called once when an exclusive store loses its writer lock or finds another writer has taken
   * the schema. From then on every write fails; the owner of the store should stop serving.
   */
  readonly onFatal?: (error: MacpError) => void;
}

const INT8_OID = 20;
const DEFAULT_SCHEMA = "macp";
/** Shown in `pg_stat_activity`, so an operator can tell which connection holds the writer lock. */
const LOCK_APPLICATION_NAME = "macp-ts writer lock";

type EntryRow = StorageDatabase["log_entries"];

/**
 * Stores logs, snapshots and registries in Postgres tables (see `postgres-schema.ts`). Each
 * append is one statement, hence atomic: it bumps the session's log length under the session
 * row's lock and inserts the entries at the positions that frees, so appends from several
 * processes interleave without gaps. It resolves when the commit returns, which with the
 * default `synchronous_commit` means the WAL record is flushed.
 *
 * An exclusive store is fenced: opening it bumps the schema's writer epoch, and every write
 * share-locks the fence row and commits only while the epoch is still its own. A successor's
 * bump waits for writes already holding that lock and makes every later one find nothing to
 * write, so a writer that lost its lock (a killed connection, a partition) can never commit
 * after a successor started, whatever it has or has not noticed yet.
 */
export class PostgresStore implements SessionStore {
  private readonly db: Kysely<StorageDatabase>;
  private readonly schema: string;
  private readonly logger: StorageLogger;
  private readonly writes = new KeyedQueue();
  private readonly connectionString: string;
  private readonly onFatal: (error: MacpError) => void;
  private lockHolder: pg.Client | undefined;
  /** This store's writer epoch; undefined for a non-exclusive store, which is not fenced. */
  private epoch: number | undefined;
  /** Why writes are refused since the writer lock was lost. */
  private lost: MacpError | undefined;
  private closed = false;

  /** Creates the pool; no I/O happens until the first call. Call `migrate()` before use. */
  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    this.logger = options.logger ?? consoleLogger;
    this.connectionString = options.connectionString;
    this.onFatal = options.onFatal ?? (() => undefined);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      // bigint columns hold counters and the runtime's clock readings, all within 2^53, read as
      // numbers; only a client's timestamp_unix_ms may lie beyond, and it is read as a bigint.
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    pool.on("error", (error) => this.logger.warn(`postgres connection error: ${error.message}`));
    this.db = new Kysely<StorageDatabase>({ dialect: new PostgresDialect({ pool }) });
  }

  /** Creates a store and brings its schema up to date. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      const exclusive = options.exclusive ?? true;
      if (exclusive) await store.lockSchema();
      await store.migrate();
      if (exclusive) await store.claimEpoch();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Applies pending migrations (idempotent; concurrent callers are serialised by Kysely's lock). */
  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => storageMigrations(this.schema) },
      migrationTableSchema: this.schema,
    });
    let { error } = await migrator.migrateToLatest();
    // Kysely's table check introspects every schema of the database; a schema dropped by someone
    // else during that query fails it with "schema … does not exist". That is not about ours: retry.
    for (let attempt = 1; attempt < 5 && isConcurrentSchemaDrop(error); attempt += 1) {
      ({ error } = await migrator.migrateToLatest());
    }
    if (error !== undefined) throw storageFailed(`postgres migration of schema "${this.schema}" failed`, error);
    const setting = await withStorageErrors("cannot read synchronous_commit", () =>
      sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(this.db),
    );
    if (setting.rows[0]?.synchronous_commit === "off") {
      this.logger.warn("postgres synchronous_commit is off: acknowledged appends can be lost in a server crash");
    }
  }

  async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    this.assertWritable();
    validateEntries(sessionId, entries);
    if (entries.length === 0) return;
    const column = <T>(pick: (entry: LogEntry) => T): T[] => entries.map(pick);
    await this.writes.run(`log:${sessionId}`, () =>
      this.fencedWrite(`durable append to session ${sessionId} failed`, () =>
        sql`
          with ${this.fence()}, bumped as (
            insert into ${this.table("sessions")} as s (session_id, log_length)
            select ${sessionId}, ${entries.length} from fence
            on conflict (session_id) do update set log_length = s.log_length + excluded.log_length
            returning log_length
          )
          insert into ${this.table("log_entries")} (session_id, position, seq, kind, mode, message_type,
            message_id, sender, macp_version, timestamp_unix_ms, received_at_unix_ms, payload)
          select ${sessionId}, bumped.log_length - ${entries.length} + e.ordinality, e.seq, e.kind, e.mode,
            e.message_type, e.message_id, e.sender, e.macp_version, e.timestamp_unix_ms,
            e.received_at_unix_ms, e.payload
          from bumped, unnest(
            ${column((e) => e.seq)}::bigint[], ${column((e) => e.kind)}::text[],
            ${column((e) => e.mode)}::text[], ${column((e) => e.messageType)}::text[],
            ${column((e) => e.messageId)}::text[], ${column((e) => e.sender)}::text[],
            ${column((e) => e.macpVersion)}::text[], ${column((e) => e.timestampUnixMs.toString())}::bigint[],
            ${column((e) => e.receivedAtUnixMs)}::bigint[], ${column((e) => asBuffer(e.payload))}::bytea[]
          ) with ordinality as e(seq, kind, mode, message_type, message_id, sender, macp_version,
            timestamp_unix_ms, received_at_unix_ms, payload, ordinality)
        `.execute(this.db),
      ),
    );
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    this.assertOpen();
    const rows = await withStorageErrors(`log of session ${sessionId} unreadable`, () =>
      this.db.withSchema(this.schema).selectFrom("log_entries").selectAll().where("session_id", "=", sessionId).orderBy("position").execute(),
    );
    return rows.map(toEntry);
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    this.assertOpen();
    const rows = await withStorageErrors(`log of session ${sessionId} unreadable`, () =>
      this.db
        .withSchema(this.schema)
        .selectFrom("log_entries")
        .selectAll()
        .where("session_id", "=", sessionId)
        .where("kind", "=", "incoming")
        .where("seq", ">", afterSeq)
        .orderBy("position")
        .execute(),
    );
    return rows.map(toEntry);
  }

  async listSessions(): Promise<string[]> {
    this.assertOpen();
    const rows = await withStorageErrors("cannot list sessions", () =>
      this.db.withSchema(this.schema).selectFrom("sessions").select("session_id").execute(),
    );
    return rows.map((row) => row.session_id);
  }

  async listUnfinishedSessions(): Promise<string[]> {
    this.assertOpen();
    const result = await withStorageErrors("cannot list unfinished sessions", () =>
      sql<{ session_id: string }>`
        select s.session_id from ${this.table("sessions")} s
        left join ${this.table("snapshots")} n on n.session_id = s.session_id
        where s.log_length > 0 and (n.finished_at_unix_ms is null or n.log_length <> s.log_length)
      `.execute(this.db),
    );
    return result.rows.map((row) => row.session_id);
  }

  async listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    const result = await withStorageErrors("cannot list finished sessions", () =>
      sql<{ session_id: string }>`
        select n.session_id from ${this.table("snapshots")} n
        join ${this.table("sessions")} s on s.session_id = n.session_id
        where n.finished_at_unix_ms < ${finishedBeforeUnixMs}::bigint and n.log_length = s.log_length
        order by n.finished_at_unix_ms
        limit ${limit}
      `.execute(this.db),
    );
    return result.rows.map((row) => row.session_id);
  }

  /** Deletes the sessions' rows in one fenced statement; callers keep batches bounded (the runtime removes at most 1000 at a time). */
  async removeSessions(sessionIds: readonly string[]): Promise<void> {
    this.assertWritable();
    if (sessionIds.length === 0) return;
    const ids = [...sessionIds];
    await this.writes.run("remove-sessions", () =>
      this.fencedWrite(`${ids.length} session(s) not removed`, () =>
        this.db.transaction().execute(async (trx) => {
          const fenced = await sql<{ fenced: number }>`
            with ${this.fence()},
            entries as (delete from ${this.table("log_entries")} where session_id = any(${ids}::text[]) and exists (select 1 from fence)),
            snapshots as (delete from ${this.table("snapshots")} where session_id = any(${ids}::text[]) and exists (select 1 from fence))
            select count(*)::int as fenced from fence
          `.execute(trx);
          if ((fenced.rows[0]?.fenced ?? 0) === 0) return { numAffectedRows: 0n };
          // A second statement of the same transaction: the referencing rows must be gone first.
          await sql`delete from ${this.table("sessions")} where session_id = any(${ids}::text[])`.execute(trx);
          return { numAffectedRows: 1n };
        }),
      ),
    );
  }

  async usage(): Promise<StorageUsage> {
    this.assertOpen();
    const result = await withStorageErrors("cannot read storage usage", () =>
      sql<{ log_bytes: number; snapshot_bytes: number; index_bytes: number; finished: number; unfinished: number }>`
        select pg_total_relation_size(${`${this.schema}.log_entries`}::regclass) as log_bytes,
          pg_total_relation_size(${`${this.schema}.snapshots`}::regclass) as snapshot_bytes,
          pg_total_relation_size(${`${this.schema}.sessions`}::regclass) as index_bytes,
          (select count(*) from ${this.table("snapshots")} n join ${this.table("sessions")} s on s.session_id = n.session_id
            where n.finished_at_unix_ms is not null and n.log_length = s.log_length) as finished,
          (select count(*) from ${this.table("sessions")} where log_length > 0) as unfinished
      `.execute(this.db),
    );
    const row = result.rows[0];
    const finished = Number(row?.finished ?? 0);
    return {
      logBytes: Number(row?.log_bytes ?? 0),
      snapshotBytes: Number(row?.snapshot_bytes ?? 0),
      indexBytes: Number(row?.index_bytes ?? 0),
      finishedSessions: finished,
      unfinishedSessions: Number(row?.unfinished ?? 0) - finished,
    };
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.assertWritable();
    validateSnapshot(snapshot);
    await this.writes.run(`snapshot:${sessionId}`, () =>
      this.fencedWrite(`snapshot of session ${sessionId} not written`, () =>
        sql`
          with ${this.fence()}, registered as (
            insert into ${this.table("sessions")} (session_id) select ${sessionId} from fence
            on conflict (session_id) do nothing
          )
          insert into ${this.table("snapshots")} (session_id, log_length, state, finished_at_unix_ms)
          select ${sessionId}, ${snapshot.logLength}, ${snapshot.state}, ${snapshot.finishedAtUnixMs ?? null}::bigint from fence
          on conflict (session_id) do update set log_length = excluded.log_length, state = excluded.state,
            finished_at_unix_ms = excluded.finished_at_unix_ms
        `.execute(this.db),
      ),
    );
  }

  async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    const row = await withStorageErrors(`snapshot of session ${sessionId} unreadable`, () =>
      this.db
        .withSchema(this.schema)
        .selectFrom("snapshots")
        .select(["log_length", "state", "finished_at_unix_ms"])
        .where("session_id", "=", sessionId)
        .executeTakeFirst(),
    );
    if (row === undefined) return undefined;
    const snapshot = { logLength: row.log_length, state: row.state };
    return row.finished_at_unix_ms === null ? snapshot : { ...snapshot, finishedAtUnixMs: row.finished_at_unix_ms };
  }

  async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.assertWritable();
    await this.writes.run(`registry:${kind}`, () =>
      this.fencedWrite(`registry ${kind} not saved`, () =>
        sql`
          with ${this.fence()}
          insert into ${this.table("registries")} (kind, document) select ${kind}, ${document} from fence
          on conflict (kind) do update set document = excluded.document
        `.execute(this.db),
      ),
    );
  }

  async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    this.assertOpen();
    const row = await withStorageErrors(`registry ${kind} unreadable`, () =>
      this.db.withSchema(this.schema).selectFrom("registries").select("document").where("kind", "=", kind).executeTakeFirst(),
    );
    return row?.document;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.idle();
    await this.db.destroy();
    // Ending the session releases its advisory lock.
    await this.lockHolder?.end().catch(() => undefined);
  }

  /**
   * Takes the schema's writer lock: a session-level advisory lock held on a dedicated connection
   * for the store's life, so it disappears with the process if that dies. Losing that connection
   * loses the lock, so the store stops writing at once.
   */
  private async lockSchema(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, application_name: LOCK_APPLICATION_NAME });
    // Before the lock is taken a failure surfaces from connect() or the query below instead.
    client.on("error", (error) => {
      if (this.lockHolder === client) this.lose(storageFailed("postgres writer-lock connection lost", error));
    });
    client.on("end", () => {
      if (this.lockHolder === client) this.lose(storageFailed("postgres writer-lock connection lost: connection ended"));
    });
    await withStorageErrors("cannot connect to postgres", () => client.connect());
    const result = await withStorageErrors("cannot take the schema writer lock", () =>
      client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtext($1)) as locked", [`macp-ts:${this.schema}`]),
    );
    if (result.rows[0]?.locked !== true) {
      await client.end().catch(() => undefined);
      throw storageFailed(`postgres schema "${this.schema}" is in use by another runtime (one writer per schema)`);
    }
    this.lockHolder = client;
  }

  /**
   * Becomes the schema's current writer: bumps the fence epoch. The update waits for writes of a
   * previous writer that already hold the fence row, so everything it committed is visible to
   * this store's reads, and nothing it sends later can commit.
   */
  private async claimEpoch(): Promise<void> {
    const owner = `${hostname()} pid ${process.pid} ${randomUUID().slice(0, 8)}`;
    const result = await withStorageErrors(`cannot claim the writer epoch of schema "${this.schema}"`, () =>
      sql<{ epoch: number }>`
        insert into ${this.table("writer_fence")} as f (id, epoch, owner) values (1, 1, ${owner})
        on conflict (id) do update set epoch = f.epoch + 1, owner = excluded.owner
        returning epoch
      `.execute(this.db),
    );
    this.epoch = result.rows[0]?.epoch;
  }

  /** The `fence` CTE: one row while this store's epoch is current (always one when not exclusive). */
  private fence(): RawBuilder<unknown> {
    if (this.epoch === undefined) return sql`fence as (select 1)`;
    return sql`fence as (select 1 from ${this.table("writer_fence")} where id = 1 and epoch = ${this.epoch} for share)`;
  }

  /** Runs a statement built on `fence()`; no row written means a successor holds the schema. */
  private async fencedWrite(message: string, statement: () => Promise<{ numAffectedRows?: bigint }>): Promise<void> {
    // A write queued behind others may only start now: the lock can have gone meanwhile.
    if (this.lost !== undefined) throw this.lost;
    const result = await withStorageErrors(message, statement);
    if (this.epoch !== undefined && result.numAffectedRows === 0n) {
      const current = await this.db
        .withSchema(this.schema)
        .selectFrom("writer_fence")
        .select(["epoch", "owner"])
        .executeTakeFirst()
        .catch(() => undefined);
      const successor = current === undefined ? "another writer" : `${current.owner} (epoch ${current.epoch})`;
      const fenced = storageFailed(
        `${message}: postgres schema "${this.schema}" was taken over by ${successor}; this writer (epoch ${this.epoch}) is fenced off`,
      );
      this.lose(fenced);
      throw fenced;
    }
  }

  /** Refuses every later write and tells the owner, once. */
  private lose(error: MacpError): void {
    if (this.closed || this.lost !== undefined) return;
    this.lost = error;
    this.logger.warn(error.message);
    this.onFatal(error);
  }

  private table(name: keyof StorageDatabase): RawBuilder<unknown> {
    return sql.id(this.schema, name);
  }

  private assertOpen(): void {
    if (this.closed) throw storageFailed("postgres store is closed");
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.lost !== undefined) throw this.lost;
  }
}

function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

function toEntry(row: EntryRow): LogEntry {
  return {
    kind: row.kind as LogEntryKind,
    seq: row.seq,
    sessionId: row.session_id,
    mode: row.mode,
    messageType: row.message_type,
    messageId: row.message_id,
    sender: row.sender,
    macpVersion: row.macp_version,
    timestampUnixMs: BigInt(row.timestamp_unix_ms),
    receivedAtUnixMs: row.received_at_unix_ms,
    // A plain copy: pg may hand back a view into a shared pool slab.
    payload: new Uint8Array(row.payload),
  };
}

/** pg serialises Buffers (not bare Uint8Arrays) inside arrays as bytea. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True for the error a concurrent `drop schema` elsewhere in the database gives Kysely's introspection. */
function isConcurrentSchemaDrop(error: unknown): boolean {
  return error instanceof Error && /schema "[^"]*" does not exist/.test(error.message);
}
