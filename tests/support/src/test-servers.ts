import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import "./provided-context.js";

function provided(key: "macpDatabaseUrl" | "macpNatsUrl"): string {
  const url = inject(key);
  if (url === undefined) {
    throw new Error(`no ${key}: run tests through the repository's vitest.config.ts, whose globalSetup resolves the servers`);
  }
  return url;
}

/**
 * The Postgres server of this test run: `DATABASE_URL`, the local server on 127.0.0.1:5432, or a
 * container started for the run. Isolate each test file in its own schema (see `uniqueName`).
 */
export function databaseUrl(): string {
  return provided("macpDatabaseUrl");
}

/**
 * The NATS (JetStream) server of this test run: `NATS_URL`, the local server on 127.0.0.1:4222,
 * or a container started for the run. Isolate each test file with its own stream names.
 */
export function natsUrl(): string {
  return provided("macpNatsUrl");
}

/**
 * A name no other test file or run uses, for a schema, database or NATS stream: `prefix`
 * (letters, digits, `_`) followed by the process id and random hex, all lower case.
 */
export function uniqueName(prefix: string): string {
  if (!/^[a-z][a-z0-9_]*$/i.test(prefix)) throw new Error(`uniqueName prefix must be letters, digits and _: ${prefix}`);
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`.toLowerCase();
}
