import { sql } from "kysely";
import type { Kysely, Transaction } from "kysely";
import { TRANSITIONS } from "@macp/pipeline";
import type { Database, NewRun, RunRow, RunStatus, RunUpdate } from "@macp/pipeline";

type Db = Kysely<Database> | Transaction<Database>;


/** Statuses from which `target` is reachable. */
export function sourcesOf(target: RunStatus): RunStatus[] {
  return (Object.keys(TRANSITIONS) as RunStatus[]).filter((from) => TRANSITIONS[from].includes(target));
}

/** Filters and paging of `GET /runs` (control-plane-api.md §11). */
export interface RunListQuery {
  status?: RunStatus;
  tags?: string[];
  createdAfter?: string;
  createdBefore?: string;
  limit: number;
  offset: number;
  sortBy: "createdAt" | "updatedAt";
  sortOrder: "asc" | "desc";
  includeArchived: boolean;
  includeSandbox: boolean;
  environment?: string;
  scenarioRef?: string;
  search?: string;
  /** Exact `session.modeName` of the stored request. */
  modeName?: string;
}

/** Escapes LIKE wildcards so user text matches literally. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Run rows over kysely: one module owns every query on `runs`. */
export const runRepository = {
  /** Inserts unless (principal, idempotency key) exists; returns the row and whether it is new. */
  async insertOrGet(db: Db, run: NewRun): Promise<{ row: RunRow; created: boolean }> {
    const inserted = await db
      .insertInto("runs")
      .values(run)
      .onConflict((conflict) => conflict.columns(["principal", "idempotency_key"]).where("idempotency_key", "is not", null).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { row: inserted, created: true };
    const existing = await db
      .selectFrom("runs")
      .selectAll()
      .where("principal", "=", run.principal)
      .where("idempotency_key", "=", run.idempotency_key ?? "")
      .executeTakeFirstOrThrow();
    return { row: existing, created: false };
  },

  async get(db: Db, id: string): Promise<RunRow | undefined> {
    return db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
  },

  async getBySession(db: Db, sessionId: string): Promise<RunRow | undefined> {
    return db.selectFrom("runs").selectAll().where("runtime_session_id", "=", sessionId).executeTakeFirst();
  },

  /**
   * Moves a run to `target` if its current status allows it, in one statement. Returns the
   * updated row, or undefined when the run is missing or in a status that cannot move there.
   */
  async transition(db: Db, id: string, target: RunStatus, patch: RunUpdate = {}): Promise<RunRow | undefined> {
    return db
      .updateTable("runs")
      .set({ ...patch, status: target, updated_at: sql`now()` })
      .where("id", "=", id)
      .where("status", "in", sourcesOf(target))
      .returningAll()
      .executeTakeFirst();
  },

  async update(db: Db, id: string, patch: RunUpdate): Promise<RunRow | undefined> {
    return db
      .updateTable("runs")
      .set({ ...patch, updated_at: sql`now()` })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  },

  async delete(db: Db, id: string): Promise<boolean> {
    const result = await db.deleteFrom("runs").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0) > 0;
  },

  /** Runs that are not terminal: what ingest resumes after a restart. */
  async unfinished(db: Db): Promise<RunRow[]> {
    return db.selectFrom("runs").selectAll().where("status", "not in", ["completed", "failed", "cancelled"]).orderBy("created_at").execute();
  },

  async list(db: Db, query: RunListQuery): Promise<{ rows: RunRow[]; total: number }> {
    let base = db.selectFrom("runs");
    if (query.status !== undefined) base = base.where("status", "=", query.status);
    if (query.tags !== undefined && query.tags.length > 0) base = base.where(sql<boolean>`tags @> ${JSON.stringify(query.tags)}::jsonb`);
    if (query.createdAfter !== undefined) base = base.where("created_at", ">", new Date(query.createdAfter));
    if (query.createdBefore !== undefined) base = base.where("created_at", "<", new Date(query.createdBefore));
    if (!query.includeArchived) base = base.where("archived_at", "is", null);
    if (!query.includeSandbox) base = base.where("mode", "!=", "sandbox");
    if (query.environment !== undefined) base = base.where(sql<boolean>`metadata->>'environment' = ${query.environment}`);
    if (query.scenarioRef !== undefined) {
      const pattern = `%${likeLiteral(query.scenarioRef)}%`;
      base = base.where((eb) => eb.or([eb("source_ref", "=", query.scenarioRef ?? ""), eb(sql<string>`metadata->>'scenarioRef'`, "ilike", pattern)]));
    }
    if (query.modeName !== undefined) base = base.where(sql<boolean>`metadata->'executionRequest'->'session'->>'modeName' = ${query.modeName}`);
    if (query.search !== undefined && query.search !== "") {
      const pattern = `%${likeLiteral(query.search)}%`;
      base = base.where((eb) =>
        eb.or([
          eb(sql<string>`id::text`, "ilike", pattern),
          eb(sql<string>`coalesce(runtime_session_id, '')`, "ilike", pattern),
          eb(sql<string>`coalesce(source_ref, '')`, "ilike", pattern),
          eb(sql<string>`coalesce(metadata->>'scenarioRef', '')`, "ilike", pattern),
          eb(sql<string>`coalesce(metadata->>'environment', '')`, "ilike", pattern),
          eb(sql<string>`tags::text`, "ilike", pattern),
        ]),
      );
    }
    const column = query.sortBy === "updatedAt" ? "updated_at" : "created_at";
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy(column, query.sortOrder).orderBy("id", query.sortOrder).limit(query.limit).offset(query.offset).execute(),
      base.select((eb) => eb.fn.countAll<string | number>().as("total")).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  },
};
