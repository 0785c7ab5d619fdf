import { sql } from "kysely";
import type { Kysely, Migration } from "kysely";

/** Per-run lease: one control-plane instance drives and ingests a run at a time. */
export const runLease: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("runs").addColumn("lease_owner", "varchar(64)").addColumn("lease_expires_at", "timestamptz").execute();
    await sql`create index runs_unfinished_lease_idx on runs (lease_expires_at) where status in ('queued', 'starting', 'binding_session', 'running', 'suspended')`.execute(db);
  },
};
