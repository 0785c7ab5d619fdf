import { sql } from "kysely";
import type { Kysely, Migration } from "kysely";

/**
 * Webhooks and their delivery outbox. A delivery row is written in the transaction of the run
 * transition that causes it, so an event is never lost between commit and dispatch; the row then
 * is the delivery log (attempts, last response, `dead` after the last attempt).
 */
export const webhooks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("webhooks")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("url", "text", (col) => col.notNull())
      .addColumn("events", "jsonb", (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
      // `aes256gcm:<base64>` with WEBHOOK_SECRET_KEY, else `plain:<secret>`; never returned.
      .addColumn("secret_sealed", "text", (col) => col.notNull())
      .addColumn("active", "boolean", (col) => col.notNull().defaultTo(true))
      .addColumn("principal", "varchar(255)", (col) => col.notNull())
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex("webhooks_created_idx").on("webhooks").columns(["created_at", "id"]).execute();

    await db.schema
      .createTable("webhook_deliveries")
      .addColumn("id", "uuid", (col) => col.primaryKey())
      .addColumn("webhook_id", "uuid", (col) => col.notNull().references("webhooks.id").onDelete("cascade"))
      .addColumn("event", "varchar(128)", (col) => col.notNull())
      // No foreign key: the log of a deleted run's deliveries stays.
      .addColumn("run_id", "uuid", (col) => col.notNull())
      .addColumn("event_id", "uuid", (col) => col.notNull())
      // The exact bytes every attempt sends (and signs).
      .addColumn("body", "text", (col) => col.notNull())
      .addColumn("status", "varchar(16)", (col) => col.notNull())
      .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "timestamptz")
      .addColumn("locked_until", "timestamptz")
      .addColumn("last_attempt_at", "timestamptz")
      .addColumn("response_status", "integer")
      .addColumn("error_message", "text")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn("delivered_at", "timestamptz")
      .addUniqueConstraint("webhook_deliveries_webhook_event_unique", ["webhook_id", "event_id"])
      .execute();
    await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
    await db.schema.createIndex("webhook_deliveries_log_idx").on("webhook_deliveries").columns(["webhook_id", "created_at", "id"]).execute();
  },
};
