import type { Kysely, Migration } from "kysely";

/**
 * Per-principal request counters: one fixed-window row per principal, shared by every
 * control-plane instance on the database, so replicas enforce one budget rather than one each.
 */
export const rateLimits: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("rate_limit_counters")
      .addColumn("key", "varchar(255)", (col) => col.primaryKey())
      .addColumn("window_start_ms", "bigint", (col) => col.notNull())
      .addColumn("hits", "integer", (col) => col.notNull())
      .execute();
  },
};
