import { sql } from "kysely";
import type { Kysely, Migration } from "kysely";

/** Audit log: one row per mutating HTTP call, with the authenticated principal. */
export const auditLog: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("audit_log")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("actor", "varchar(255)", (col) => col.notNull())
      .addColumn("actor_type", "varchar(32)", (col) => col.notNull())
      .addColumn("action", "varchar(128)", (col) => col.notNull())
      .addColumn("resource", "varchar(64)", (col) => col.notNull())
      .addColumn("resource_id", "varchar(255)")
      .addColumn("status_code", "integer", (col) => col.notNull())
      .addColumn("details", "jsonb", (col) => col.notNull())
      .addColumn("request_id", "varchar(128)", (col) => col.notNull())
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex("audit_log_created_idx").on("audit_log").columns(["created_at", "id"]).execute();
    await db.schema.createIndex("audit_log_resource_idx").on("audit_log").columns(["resource", "resource_id", "created_at"]).execute();
    await db.schema.createIndex("audit_log_actor_idx").on("audit_log").columns(["actor", "created_at"]).execute();
  },
};
