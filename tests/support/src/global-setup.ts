import type { TestProject } from "vitest/node";
import { liveProbes } from "./live-probes.js";
import "./provided-context.js";
import { NATS, POSTGRES, resolveServers, stopAll, type ResolvedServer } from "./server-resolution.js";


/**
 * vitest globalSetup: resolves Postgres and NATS once per test run, hands their URLs to every
 * test file, and stops whatever containers it started when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await resolveServers([POSTGRES, NATS], liveProbes());
  const [postgres, nats] = servers as [ResolvedServer, ResolvedServer];
  project.provide("macpDatabaseUrl", postgres.url);
  project.provide("macpNatsUrl", nats.url);
  if (servers.some((server) => server.source === "container")) {
    // URLs carry container credentials: say only where each server came from.
    console.info(`test servers: PostgreSQL from ${postgres.source}, NATS from ${nats.source}`);
  }
  return () => stopAll(servers);
}
