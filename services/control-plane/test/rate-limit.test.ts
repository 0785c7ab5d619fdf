import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { waitFor } from "./support/wait.js";

const START_BOUND_MS = 180_000;

/** Two control planes on one database: the per-principal budget is shared, not per instance. */
describe("rate limits kept in the shared database", () => {
  const schema = freshSchema();
  const env = {
    DATABASE_SCHEMA: schema,
    NODE_ENV: "production",
    RUNTIME_ALLOW_INSECURE: "true",
    THROTTLE_LIMIT: "3",
    THROTTLE_TTL_MS: "60000",
    AUTH_API_KEYS_JSON: JSON.stringify([
      { id: "writer", key: "writer-key", scopes: ["runs:read", "runs:write"] },
      { id: "reader", key: "reader-key", scopes: ["runs:read"] },
      { id: "short", key: "short-key", scopes: ["runs:read"], rateLimit: 1 },
    ]),
  };
  let first: TestControlPlane;
  let second: TestControlPlane;
  beforeAll(async () => {
    first = await startTestControlPlane("postgres", env);
    second = await startTestControlPlane("postgres", env);
  }, START_BOUND_MS);
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await dropSchema(schema);
  });

  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

  it("counts a principal's requests on every instance against one budget", async () => {
    const statuses = [
      (await first.request("GET", "/runs", as("writer-key"))).status,
      (await second.request("GET", "/runs", as("writer-key"))).status,
      (await first.request("GET", "/runs", as("writer-key"))).status,
    ];
    expect(statuses).toEqual([200, 200, 200]);
    // The fourth request goes to the instance that has seen only one of the three.
    const limited = await second.request("GET", "/runs", as("writer-key"));
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      errorCode: "RATE_LIMITED",
      message: expect.stringContaining("rate limit of 3 requests"),
      details: { retryAfterSeconds: expect.any(Number) },
      requestId: limited.headers.get("x-request-id"),
    });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.details.retryAfterSeconds).toBe(retryAfter);
    expect(limited.headers.get("x-ratelimit-limit")).toBe("3");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect((await first.request("GET", "/runs", as("writer-key"))).status).toBe(429);
  });

  it("keeps other principals' budgets apart and never limits the probes", async () => {
    expect((await first.request("GET", "/runs", as("reader-key"))).status).toBe(200);
    expect((await second.request("GET", "/runs", as("reader-key"))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await second.request("GET", "/healthz")).status).toBe(200);
  });

  it("honours a key's own limit across instances", async () => {
    expect((await first.request("GET", "/runs", as("short-key"))).status).toBe(200);
    const limited = await second.request("GET", "/runs", as("short-key"));
    expect(limited.status).toBe(429);
    expect(limited.body.message).toContain("rate limit of 1 requests");
  });
});

describe("a rate-limit window ends", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { THROTTLE_LIMIT: "1", THROTTLE_TTL_MS: "1000" });
  }, START_BOUND_MS);
  afterAll(async () => {
    await cp?.close();
  });

  it("starts a fresh budget in the next window", async () => {
    // The first request may land at the end of a window: find one that is refused, then wait it out.
    await waitFor("a refused request", async () => ((await cp.request("GET", "/runs")).status === 429 ? true : undefined));
    await waitFor("the next window", async () => ((await cp.request("GET", "/runs")).status === 200 ? true : undefined));
  });
});
