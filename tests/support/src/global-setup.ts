import type { TestProject } from "vitest/node";
import { liveProbes } from "./live-probes.js";
import "./provided-context.js";
import { createRunDatabase, dropStaleRunDatabases } from "./run-database.js";
import { NATS, POSTGRES, resolveServers, stopAll, type ResolvedServer } from "./server-resolution.js";

/**
 * vitest globalSetup: resolves Postgres and NATS once per test run, hands their URLs to every
 * test file, and at the end of the run drops the run's database and stops its containers.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await resolveServers([POSTGRES, NATS], liveProbes());
  const [postgres, nats] = servers as [ResolvedServer, ResolvedServer];
  let runDatabase: Awaited<ReturnType<typeof createRunDatabase>> | undefined;
  try {
    // A given DATABASE_URL is used as it is; a container is this run's alone already.
    if (postgres.source === "local") {
      await dropStaleRunDatabases(postgres.url);
      runDatabase = await createRunDatabase(postgres.url);
    }
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
  project.provide("macpDatabaseUrl", runDatabase?.url ?? postgres.url);
  project.provide("macpNatsUrl", nats.url);
  if (servers.some((server) => server.source === "container")) {
    // URLs carry container credentials: say only where each server came from.
    console.info(`test servers: PostgreSQL from ${postgres.source}, NATS from ${nats.source}`);
  }
  return async () => {
    await runDatabase?.drop();
    await stopAll(servers);
  };
}
