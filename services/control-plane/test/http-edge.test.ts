import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/index.js";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";

/** PGlite initialises a whole cluster in WebAssembly: on a loaded machine that takes a while (a failure bound only). */
const PGLITE_START_BOUND_MS = 180_000;

describe("the HTTP edge of a development control plane", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { BODY_LIMIT_BYTES: "2048" });
  }, PGLITE_START_BOUND_MS);
  afterAll(async () => {
    await cp?.close();
  });

  it("answers /healthz and echoes or assigns a request id", async () => {
    const given = await cp.request("GET", "/healthz", { headers: { "x-request-id": "trace-me-1" } });
    expect(given.status).toBe(200);
    expect(given.body).toEqual({ ok: true, service: "macp-control-plane" });
    expect(given.headers.get("x-request-id")).toBe("trace-me-1");
    const assigned = await cp.request("GET", "/healthz");
    expect(assigned.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("is not ready while the runtime is unreachable, and says why", async () => {
    const ready = await cp.request("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ok: false, database: "ok", runtime: { ok: false, runtimeKind: "macp-ts" }, streamConsumer: "ok", circuitBreaker: "CLOSED" });
    expect(typeof ready.body.runtime.detail).toBe("string");
  });

  it("gives every error the same body with a requestId", async () => {
    const unknown = await cp.request("GET", "/no/such/route", { headers: { "x-request-id": "r-404" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ statusCode: 404, errorCode: "ROUTE_NOT_FOUND", message: "no route GET /no/such/route", requestId: "r-404" });

    const missingRun = await cp.request("GET", "/runs/6f1d7a52-3c59-4d7e-9a0b-1c2d3e4f5a6b");
    expect(missingRun.status).toBe(404);
    expect(missingRun.body.errorCode).toBe("RUN_NOT_FOUND");

    const badId = await cp.request("GET", "/runs/not-a-uuid");
    expect(badId.status).toBe(400);
    expect(badId.body.errorCode).toBe("VALIDATION_ERROR");
    expect(badId.body.details.issues[0].path).toBe("params/id");
  });

  it("refuses bad input with 4xx, never 500", async () => {
    const tooBig = await cp.request("POST", "/runs/6f1d7a52-3c59-4d7e-9a0b-1c2d3e4f5a6b/archive", { raw: JSON.stringify({ pad: "x".repeat(4096) }) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.errorCode).toBe("PAYLOAD_TOO_LARGE");

    const badJson = await cp.request("POST", "/runs/6f1d7a52-3c59-4d7e-9a0b-1c2d3e4f5a6b/archive", { raw: "{not json" });
    expect(badJson.status).toBe(400);

    const badQuery = await cp.request("GET", "/runs?limit=201");
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.details.issues[0].path).toBe("querystring/limit");

    const unknownParam = await cp.request("GET", "/runs?colour=blue");
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.details.issues[0].path).toBe("querystring/colour");
  });

  it("serves an OpenAPI 3.1 document and Swagger UI", async () => {
    const json = await cp.request("GET", "/docs/json");
    expect(json.status).toBe(200);
    expect(json.body.openapi).toBe("3.1.0");
    expect(Object.keys(json.body.paths)).toEqual(expect.arrayContaining(["/runs", "/runs/{id}", "/healthz", "/readyz"]));
    const ui = await cp.request("GET", "/docs");
    expect([200, 302]).toContain(ui.status);
  });

  it("exposes Prometheus metrics including HTTP request counts", async () => {
    await cp.request("GET", "/healthz");
    const metrics = await cp.request("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('http_requests_total{method="GET",path="/healthz",status_code="200"}');
    expect(metrics.text).toContain("process_cpu_user_seconds_total");
  });

  it("accepts requests without credentials in development mode", async () => {
    const list = await cp.request("GET", "/runs");
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ data: [], total: 0, limit: 50, offset: 0 });
  });
});

describe("API keys, scopes and per-principal rate limits", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", {
      NODE_ENV: "production",
      RUNTIME_ALLOW_INSECURE: "true",
      THROTTLE_LIMIT: "3",
      THROTTLE_TTL_MS: "60000",
      AUTH_API_KEYS_JSON: JSON.stringify([
        { id: "reader", sha256: hashApiKey("reader-key").toString("hex"), scopes: ["runs:read"], rateLimit: 50 },
        { id: "writer", key: "writer-key", scopes: ["runs:read", "runs:write"] },
      ]),
    });
  }, PGLITE_START_BOUND_MS);
  afterAll(async () => {
    await cp?.close();
  });

  it("refuses a missing or unknown key with 401", async () => {
    expect((await cp.request("GET", "/runs")).status).toBe(401);
    const wrong = await cp.request("GET", "/runs", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errorCode).toBe("UNAUTHENTICATED");
  });

  it("accepts a key as a bearer or raw value and checks its scope", async () => {
    expect((await cp.request("GET", "/runs", { headers: { authorization: "Bearer reader-key" } })).status).toBe(200);
    expect((await cp.request("GET", "/runs", { headers: { authorization: "reader-key" } })).status).toBe(200);
    const denied = await cp.request("DELETE", "/runs/6f1d7a52-3c59-4d7e-9a0b-1c2d3e4f5a6b", { headers: { authorization: "Bearer reader-key" } });
    expect(denied.status).toBe(403);
    expect(denied.body.errorCode).toBe("FORBIDDEN");
  });

  it("limits each principal separately and never the probes", async () => {
    const writer = { authorization: "Bearer writer-key" };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await cp.request("GET", "/runs", { headers: writer })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await cp.request("GET", "/runs", { headers: writer });
    expect(limited.body.errorCode).toBe("RATE_LIMITED");
    // The reader has its own budget (50), untouched by the writer's requests.
    expect((await cp.request("GET", "/runs", { headers: { authorization: "Bearer reader-key" } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await cp.request("GET", "/healthz")).status).toBe(200);
  });
});

describe("JWT bearer tokens", () => {
  let cp: TestControlPlane;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  beforeAll(async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), alg: "ES256", use: "sig" };
    cp = await startTestControlPlane("postgres", {
      NODE_ENV: "production",
      RUNTIME_ALLOW_INSECURE: "true",
      AUTH_JWT_ISSUER: "https://issuer.test",
      AUTH_JWT_AUDIENCE: "macp-control-plane",
      AUTH_JWKS_JSON: JSON.stringify({ keys: [jwk] }),
    });
  });
  afterAll(async () => {
    await cp?.close();
  });

  const token = (claims: Record<string, unknown>, issuer = "https://issuer.test") =>
    new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).setIssuer(issuer).setAudience("macp-control-plane").setSubject("user-7").setExpirationTime("5m").sign(privateKey);

  it("accepts a valid token with its scopes and refuses the rest", async () => {
    const reader = { authorization: `Bearer ${await token({ scope: "runs:read" })}` };
    expect((await cp.request("GET", "/runs", { headers: reader })).status).toBe(200);
    expect((await cp.request("DELETE", "/runs/6f1d7a52-3c59-4d7e-9a0b-1c2d3e4f5a6b", { headers: reader })).status).toBe(403);
    const foreign = await cp.request("GET", "/runs", { headers: { authorization: `Bearer ${await token({ scope: "admin" }, "https://evil.test")}` } });
    expect(foreign.status).toBe(401);
    expect(foreign.body.errorCode).toBe("UNAUTHENTICATED");
  });
});
