import { sql, type Kysely, type Migration } from "kysely";

/** Row shapes as Kysely sees them (int8 columns are parsed to numbers by the pool, to bigints beyond 2^53). */
export interface StorageDatabase {
  sessions: { session_id: string; log_length: number };
  log_entries: {
    session_id: string;
    position: number;
    seq: number;
    kind: string;
    mode: string;
    message_type: string;
    message_id: string;
    sender: string;
    macp_version: string;
    timestamp_unix_ms: number | bigint;
    received_at_unix_ms: number;
    payload: Uint8Array;
  };
  snapshots: { session_id: string; log_length: number; state: string; finished_at_unix_ms: number | null };
  registries: { kind: string; document: string };
  writer_fence: { id: number; epoch: number; owner: string };
}

/**
 * Versioned migrations of one schema, applied in name order by Kysely's Migrator. New versions
 * are appended here, never edited once released.
 */
export function storageMigrations(schema: string): Record<string, Migration> {
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>): Promise<void> {
        const ddl = db.schema.withSchema(schema);
        // One row per session: `log_length` is bumped by every append under the row lock, so
        // positions are assigned without gaps and concurrent appenders to a session serialise.
        await ddl
          .createTable("sessions")
          .addColumn("session_id", "text", (c) => c.primaryKey())
          .addColumn("log_length", "bigint", (c) => c.notNull().defaultTo(0))
          .execute();
        await ddl
          .createTable("log_entries")
          .addColumn("session_id", "text", (c) => c.notNull().references("sessions.session_id"))
          .addColumn("position", "bigint", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('incoming', 'internal', 'checkpoint')`))
          .addColumn("mode", "text", (c) => c.notNull())
          .addColumn("message_type", "text", (c) => c.notNull())
          .addColumn("message_id", "text", (c) => c.notNull())
          .addColumn("sender", "text", (c) => c.notNull())
          .addColumn("macp_version", "text", (c) => c.notNull())
          .addColumn("timestamp_unix_ms", "bigint", (c) => c.notNull())
          .addColumn("received_at_unix_ms", "bigint", (c) => c.notNull())
          .addColumn("payload", "bytea", (c) => c.notNull())
          .addPrimaryKeyConstraint("log_entries_pkey", ["session_id", "position"])
          .execute();
        // Serves loadLogAfter without touching a session's internal and checkpoint records.
        await ddl
          .createIndex("log_entries_incoming_seq")
          .on("log_entries")
          .columns(["session_id", "seq"])
          .where(sql.ref("kind"), "=", "incoming")
          .execute();
        await ddl
          .createTable("snapshots")
          .addColumn("session_id", "text", (c) => c.primaryKey().references("sessions.session_id"))
          .addColumn("log_length", "bigint", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .execute();
        await ddl
          .createTable("registries")
          .addColumn("kind", "text", (c) => c.primaryKey())
          .addColumn("document", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0002_writer_fence": {
      async up(db: Kysely<unknown>): Promise<void> {
        const ddl = db.schema.withSchema(schema);
        // One row whose epoch each new writer bumps as it takes the schema; every write checks
        // it in the same statement (postgres-store.ts), so a writer that lost its lock cannot
        // commit after a successor started.
        await ddl
          .createTable("writer_fence")
          .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
          .addColumn("epoch", "bigint", (c) => c.notNull())
          .addColumn("owner", "text", (c) => c.notNull())
          .execute();
        // Two accepted messages at one sequence number are a forked history; the database refuses
        // them whatever a writer believes. A log forked before this version must be repaired first.
        const forked = await sql<{ session_id: string; seq: string }>`
          select session_id, seq::text from ${sql.id(schema, "log_entries")}
          where kind = 'incoming' group by session_id, seq having count(*) > 1 limit 5
        `.execute(db);
        if (forked.rows.length > 0) {
          const where = forked.rows.map((row) => `session ${row.session_id} seq ${row.seq}`).join(", ");
          throw new Error(`log_entries holds two accepted messages at one sequence number (${where}); keep one of each pair, then restart`);
        }
        await ddl.dropIndex("log_entries_incoming_seq").execute();
        await ddl
          .createIndex("log_entries_incoming_seq")
          .unique()
          .on("log_entries")
          .columns(["session_id", "seq"])
          .where(sql.ref("kind"), "=", "incoming")
          .execute();
      },
    },
    "0003_finished_sessions": {
      async up(db: Kysely<unknown>): Promise<void> {
        const ddl = db.schema.withSchema(schema);
        // Set on snapshots of finished sessions: a restart rebuilds only the others, and retention
        // finds expired history through the partial index without reading any state.
        await ddl.alterTable("snapshots").addColumn("finished_at_unix_ms", "bigint").execute();
        await ddl
          .createIndex("snapshots_finished_at")
          .on("snapshots")
          .column("finished_at_unix_ms")
          .where(sql.ref("finished_at_unix_ms"), "is not", null)
          .execute();
      },
    },
  };
}
