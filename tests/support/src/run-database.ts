import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A database of its own for one test run on a shared local server, dropped when the run ends:
 * other runs on the same server (another checkout, a second terminal) never see this run's
 * schemas, and whatever a crashed test file left behind goes with it.
 */
export async function createRunDatabase(serverUrl: string, pid = process.pid): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `macp_run_${pid}_${randomBytes(4).toString("hex")}`;
  await onServer(serverUrl, (client) => client.query(`create database ${name} template template0`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a pool a test file failed to close must not keep the database alive.
    drop: () => onServer(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)),
  };
}

/**
 * Drops the run databases on this machine's server whose run process is gone (a run killed before
 * its teardown). Only for a server on this host, where the process ids in the names are ours.
 */
export async function dropStaleRunDatabases(serverUrl: string, isAlive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const dropped: string[] = [];
  await onServer(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname ~ '^macp_run_[0-9]+_[0-9a-f]{8}$'`);
    for (const { datname } of rows) {
      if (isAlive(Number(datname.split("_")[2]))) continue;
      await client.query(`drop database if exists ${datname} with (force)`);
      dropped.push(datname);
    }
  });
  return dropped;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function onServer(serverUrl: string, body: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await body(client);
  } finally {
    await client.end();
  }
}
