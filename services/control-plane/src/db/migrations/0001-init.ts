import { sql } from "kysely";
import type { Kysely, Migration } from "kysely";

/** The run tables (control-plane.md §4.1, with our fixes: principal-scoped idempotency, runtime cursor, whole-projection JSON). */
export const init: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("runs")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("status", "varchar(32)", (col) => col.notNull())
      .addColumn("mode", "varchar(16)", (col) => col.notNull())
      .addColumn("runtime_kind", "varchar(64)", (col) => col.notNull())
      .addColumn("runtime_version", "varchar(64)")
      .addColumn("runtime_session_id", "varchar(255)")
      .addColumn("trace_id", "varchar(64)")
      .addColumn("principal", "varchar(255)", (col) => col.notNull())
      .addColumn("idempotency_key", "varchar(255)")
      .addColumn("request_hash", "varchar(64)")
      .addColumn("last_event_seq", "integer", (col) => col.notNull().defaultTo(0))
      .addColumn("source_kind", "varchar(128)")
      .addColumn("source_ref", "text")
      .addColumn("tags", "jsonb", (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("metadata", "jsonb", (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("error_code", "varchar(128)")
      .addColumn("error_message", "text")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn("started_at", "timestamptz")
      .addColumn("ended_at", "timestamptz")
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn("archived_at", "timestamptz")
      .execute();
    await sql`create unique index runs_principal_idempotency_key_unique on runs (principal, idempotency_key) where idempotency_key is not null`.execute(db);
    await sql`create unique index runs_runtime_session_id_unique on runs (runtime_session_id) where runtime_session_id is not null`.execute(db);
    await db.schema.createIndex("runs_status_idx").on("runs").column("status").execute();
    await db.schema.createIndex("runs_created_at_idx").on("runs").columns(["created_at", "id"]).execute();
    await db.schema.createIndex("runs_updated_at_idx").on("runs").columns(["updated_at", "id"]).execute();

    await db.schema
      .createTable("runtime_sessions")
      .addColumn("run_id", "uuid", (col) => col.primaryKey().references("runs.id").onDelete("cascade"))
      .addColumn("runtime_session_id", "varchar(255)", (col) => col.notNull())
      .addColumn("mode_name", "varchar(255)", (col) => col.notNull())
      .addColumn("mode_version", "varchar(64)")
      .addColumn("configuration_version", "varchar(128)")
      .addColumn("policy_version", "varchar(128)")
      .addColumn("initiator_participant_id", "varchar(255)")
      .addColumn("session_state", "varchar(64)", (col) => col.notNull().defaultTo("SESSION_STATE_UNSPECIFIED"))
      .addColumn("participants", "jsonb", (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("last_runtime_seq", "integer", (col) => col.notNull().defaultTo(0))
      .addColumn("stream_connected_at", "timestamptz")
      .addColumn("stream_disconnected_at", "timestamptz")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable("run_events_raw")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("run_id", "uuid", (col) => col.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("seq", "integer", (col) => col.notNull())
      .addColumn("raw_key", "text", (col) => col.notNull())
      .addColumn("runtime_seq", "integer")
      .addColumn("message_id", "varchar(255)")
      .addColumn("ts", "timestamptz", (col) => col.notNull())
      .addColumn("kind", "varchar(64)", (col) => col.notNull())
      .addColumn("source_name", "varchar(128)", (col) => col.notNull())
      .addColumn("payload", "jsonb", (col) => col.notNull())
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addUniqueConstraint("run_events_raw_run_seq_unique", ["run_id", "seq"])
      .execute();
    // One row per raw input: a redelivered envelope (same session + message id) is recognised.
    await sql`create unique index run_events_raw_run_raw_key_unique on run_events_raw (run_id, raw_key)`.execute(db);

    await db.schema
      .createTable("run_events_canonical")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("run_id", "uuid", (col) => col.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("seq", "integer", (col) => col.notNull())
      .addColumn("ts", "timestamptz", (col) => col.notNull())
      .addColumn("type", "varchar(128)", (col) => col.notNull())
      .addColumn("subject_kind", "varchar(64)")
      .addColumn("subject_id", "varchar(255)")
      .addColumn("source_kind", "varchar(64)", (col) => col.notNull())
      .addColumn("source_name", "varchar(128)", (col) => col.notNull())
      .addColumn("raw_type", "varchar(128)")
      .addColumn("trace_id", "varchar(64)")
      .addColumn("span_id", "varchar(64)")
      .addColumn("parent_span_id", "varchar(64)")
      .addColumn("data", "jsonb", (col) => col.notNull())
      .addColumn("schema_version", "integer", (col) => col.notNull())
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addUniqueConstraint("run_events_canonical_run_seq_unique", ["run_id", "seq"])
      .execute();
    await db.schema.createIndex("run_events_canonical_ts_idx").on("run_events_canonical").columns(["ts", "run_id", "seq"]).execute();
    await db.schema.createIndex("run_events_canonical_run_type_idx").on("run_events_canonical").columns(["run_id", "type"]).execute();

    await db.schema
      .createTable("run_projections")
      .addColumn("run_id", "uuid", (col) => col.primaryKey().references("runs.id").onDelete("cascade"))
      .addColumn("version", "integer", (col) => col.notNull())
      .addColumn("schema_version", "integer", (col) => col.notNull())
      .addColumn("state", "jsonb", (col) => col.notNull())
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable("run_metrics")
      .addColumn("run_id", "uuid", (col) => col.primaryKey().references("runs.id").onDelete("cascade"))
      .addColumn("version", "integer", (col) => col.notNull())
      .addColumn("summary", "jsonb", (col) => col.notNull())
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable("run_artifacts")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("run_id", "uuid", (col) => col.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("kind", "varchar(64)", (col) => col.notNull())
      .addColumn("label", "varchar(255)", (col) => col.notNull())
      .addColumn("uri", "text")
      .addColumn("inline", "jsonb")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex("run_artifacts_run_idx").on("run_artifacts").columns(["run_id", "created_at"]).execute();
  },
};
