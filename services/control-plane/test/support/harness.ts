import { databaseUrl, uniqueName } from "@macp/test-support";
import pg from "pg";
import { loadConfig, startControlPlane } from "../../src/index.js";
import type { ControlPlaneHandle } from "../../src/index.js";
import { createLogger } from "../../src/observability/logger.js";

/** The two database backends every storage-touching suite runs on. */
export const DATABASE_KINDS = ["pglite", "postgres"] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** The Postgres server of this test run (resolved by @macp/test-support). */
export function testDatabaseUrl(): string {
  return databaseUrl();
}

/** A fresh schema name, so test files can share one Postgres database in parallel. */
export function freshSchema(): string {
  return uniqueName("cp_test");
}

/** Drops a schema created by a test. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Environment of a development-mode control plane on an ephemeral port with an in-memory database. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "development",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "silent",
  DATA_DIR: "memory",
  // Nothing listens on port 1: a runtime that is down unless a test provides one.
  RUNTIME_ADDRESS: "127.0.0.1:1",
  RUNTIME_REQUEST_TIMEOUT_MS: "5000",
  // Tests poll freely; the rate-limit test sets its own limit.
  THROTTLE_LIMIT: "1000000",
};

/** A control plane started for a test, with helpers to call it. */
export interface TestControlPlane {
  readonly handle: ControlPlaneHandle;
  readonly url: string;
  /** fetch relative to the control plane; JSON bodies are serialized. */
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  // Response bodies are checked field by field in tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly text: string;
}

/** Starts a control plane on `database` (a fresh schema for Postgres, dropped on close). */
export async function startTestControlPlane(database: DatabaseKind = "pglite", env: Record<string, string> = {}): Promise<TestControlPlane> {
  const schema = database === "postgres" ? (env.DATABASE_SCHEMA ?? freshSchema()) : undefined;
  const config = loadConfig({
    ...BASE_ENV,
    ...(schema !== undefined ? { DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: schema } : {}),
    ...env,
  });
  const handle = await startControlPlane(config, { logger: createLogger((process.env.CP_TEST_LOG_LEVEL ?? "silent") as "silent") });
  return {
    handle,
    url: handle.url,
    request: (method, path, options = {}) => request(handle.url, method, path, options),
    async close() {
      await handle.close();
      if (schema !== undefined && env.DATABASE_SCHEMA === undefined) await dropSchema(schema);
    },
  };
}

/** One HTTP call; the body is parsed as JSON when it is JSON. */
export async function request(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  } else if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  if ((response.headers.get("content-type") ?? "").includes("json") && text !== "") parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed, text };
}
