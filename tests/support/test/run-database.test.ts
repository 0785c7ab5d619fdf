import pg from "pg";
import { describe, expect, it } from "vitest";
import { databaseUrl } from "../src/index.js";
import { createRunDatabase, dropStaleRunDatabases } from "../src/run-database.js";

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe("a test run's own database", () => {
  it("is a fresh database on the same server, gone after drop even with a connection left open", async () => {
    const server = databaseUrl();
    const run = await createRunDatabase(server);
    const name = new URL(run.url).pathname.slice(1);
    expect(name).toMatch(/^macp_run_\d+_[0-9a-f]{8}$/);
    expect(new URL(run.url).host).toBe(new URL(server).host);
    expect(await query(run.url, "select current_database() as db")).toEqual([{ db: name }]);

    const leaked = new pg.Client({ connectionString: run.url });
    await leaked.connect();
    leaked.on("error", () => undefined);
    await run.drop();
    expect(await query(server, `select datname from pg_database where datname = '${name}'`)).toEqual([]);
    await leaked.end().catch(() => undefined);
  });

  it("drops the run databases whose process is gone, and only those", async () => {
    const server = databaseUrl();
    const gonePid = 4_194_303; // stands for a finished run: isAlive below says so
    const gone = await createRunDatabase(server, gonePid);
    const goneName = new URL(gone.url).pathname.slice(1);
    const live = await createRunDatabase(server);
    try {
      // Every other run database on the server counts as alive: concurrent runs keep theirs.
      const dropped = await dropStaleRunDatabases(server, (pid) => pid !== gonePid);
      expect(dropped.filter((name) => name !== goneName)).toEqual([]);
      expect(await query(server, `select datname from pg_database where datname = '${goneName}'`)).toEqual([]);
      expect(await query(live.url, "select 1 as one")).toEqual([{ one: 1 }]);
    } finally {
      await gone.drop();
      await live.drop();
    }
  });
});
