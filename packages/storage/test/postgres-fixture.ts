import { randomBytes } from "node:crypto";
import { databaseUrl } from "@macp/test-support";
import pg from "pg";

/** The Postgres server of this test run (`@macp/test-support` resolves it). */
export const DATABASE_URL = databaseUrl();

/**
 * Hands out schema names unique to this test file (and process) and drops them all at the end,
 * so test files can run in parallel against one database.
 */
export function schemaAllocator(file: string): { next(): string; dropAll(): Promise<void> } {
  const prefix = `t_${file}_${process.pid}_${randomBytes(3).toString("hex")}`;
  const created: string[] = [];
  return {
    next() {
      const schema = `${prefix}_${created.length}`;
      created.push(schema);
      return schema;
    },
    async dropAll() {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        for (const schema of created.splice(0)) await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
