import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A database of its own for one test run on a shared local server, dropped when the run ends:
 * other runs on the same server (another checkout, a second terminal) never see this run's
 * schemas, and whatever a crashed test file left behind goes with it.
 */
export async function createRunDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `macp_run_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onServer(serverUrl, (client) => client.query(`create database ${name} template template0`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a pool a test file failed to close must not keep the database alive.
    drop: () => onServer(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)),
  };
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
