import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, Migrator, PostgresDialect, sql } from "kysely";
import type { MigrationProvider, Migration } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import type { DatabaseConfig } from "../config/config.js";
import { tracedDialect } from "../observability/tracing-db.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { Database } from "@macp/pipeline";

/** An open database: kysely over `pg` (Postgres) or over embedded PGlite. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseConfig["kind"];
  /** Schema holding the tables (the migration tables too). */
  readonly schema: string;
  /** Resolves when a trivial query succeeds; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the configured database, creating the schema (Postgres) or data dir (PGlite) if missing. */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  if (config.kind === "pglite") {
    if (config.dataDir !== undefined) mkdirSync(config.dataDir, { recursive: true });
    const pglite = config.dataDir === undefined ? new PGlite() : new PGlite(config.dataDir);
    await pglite.waitReady;
    const db = new Kysely<Database>({ dialect: tracedDialect(new PGliteDialect(pglite)) });
    return handle(db, "pglite", "public");
  }
  // The schema must exist before any pooled connection uses it as its search_path.
  const bootstrap = new pg.Client({ connectionString: config.url, connectionTimeoutMillis: config.connectionTimeoutMs });
  await bootstrap.connect();
  try {
    await bootstrap.query(`create schema if not exists "${config.schema}"`);
  } catch (error) {
    // Two replicas creating the schema at once: one loses a unique-violation race, which is fine.
    if ((error as { code?: string }).code !== "23505") throw error;
  } finally {
    await bootstrap.end();
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    options: `-c search_path="${config.schema}"`,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const db = new Kysely<Database>({ dialect: tracedDialect(new PostgresDialect({ pool })) });
  return handle(db, "postgres", config.schema);
}

function handle(db: Kysely<Database>, kind: DatabaseConfig["kind"], schema: string): DatabaseHandle {
  let closed: Promise<void> | undefined;
  return {
    db,
    kind,
    schema,
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}

const provider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({ ...MIGRATIONS }),
};

/**
 * Applies pending migrations. kysely's Postgres adapter holds a transaction-scoped advisory lock
 * for the whole run, so replicas starting together migrate once and the others wait, then see
 * nothing left to do.
 */
export async function migrateToLatest(db: Kysely<Database>, schema = "public"): Promise<string[]> {
  // Qualified by schema: kysely's table check would otherwise see another schema's migration tables.
  const migrator = new Migrator({ db, provider, migrationTableSchema: schema });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's table check introspects every schema of the database; a schema dropped by someone
  // else during that query fails it with "schema … does not exist". That is not about ours: retry.
  for (let attempt = 1; attempt < 5 && error instanceof Error && /schema "[^"]*" does not exist/.test(error.message); attempt += 1) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}
