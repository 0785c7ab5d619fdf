import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, startControlPlane } from "../src/index.js";
import type { ControlPlaneHandle } from "../src/index.js";
import { createLogger } from "../src/observability/logger.js";
import { BASE_ENV, dropSchema, freshSchema, request, testDatabaseUrl } from "./support/harness.js";
import type { TestResponse } from "./support/harness.js";
import { freePort, spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";
import { modeMessage, sendAccepted } from "./support/agent-messages.js";

const KEYS = { admin: "admin-key-0123456789abcdef", reader: "reader-key-0123456789abcdef" };
const RESET_MS = 30_000;

describe("runtime circuit breaker: a stopped runtime trips it, a restored one closes it", () => {
  let port: number;
  let runtime: RuntimeDaemon;
  let cp: ControlPlaneHandle;
  // The breaker's clock: the open period ends when the test says so, never by waiting.
  let now = Date.parse("2026-12-06T12:00:00.000Z");
  const schema = freshSchema();
  const call = (method: string, path: string, key: string = KEYS.admin): Promise<TestResponse> => request(cp.url, method, path, { headers: { authorization: `Bearer ${key}` } });
  const spawnOnPort = () => spawnRuntime({ MACP_BIND_ADDR: `127.0.0.1:${port}` });

  beforeAll(async () => {
    port = await freePort();
    runtime = await spawnOnPort();
    const config = loadConfig({
      ...BASE_ENV,
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: schema,
      RUNTIME_ADDRESS: runtime.address,
      RUNTIME_CIRCUIT_BREAKER_THRESHOLD: "3",
      RUNTIME_CIRCUIT_BREAKER_RESET_MS: String(RESET_MS),
      RUNTIME_CIRCUIT_BREAKER_PROBE_MS: "200",
      AUTH_API_KEYS_JSON: JSON.stringify([
        { id: "admin", key: KEYS.admin, scopes: ["admin"] },
        { id: "reader", key: KEYS.reader, scopes: ["runs:read"] },
      ]),
    });
    cp = await startControlPlane(config, { logger: createLogger("silent"), breakerClock: () => now });
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    await dropSchema(schema);
  });

  it("opens after RUNTIME_CIRCUIT_BREAKER_THRESHOLD transport failures, fails fast, and /readyz says so", async () => {
    expect((await call("GET", "/runtime/manifest")).status).toBe(200);
    expect((await call("GET", "/admin/circuit-breaker")).body).toMatchObject({ state: "CLOSED", consecutiveFailures: 0, threshold: 3, resetMs: RESET_MS, openedAt: null });
    await waitFor("ready", async () => ((await call("GET", "/readyz")).status === 200 ? true : undefined));

    await runtime.stop();
    for (let failure = 1; failure <= 3; failure += 1) {
      const response = await call("GET", "/runtime/modes");
      expect(response.status).toBe(503);
      expect(response.body.errorCode).toBe("RUNTIME_UNAVAILABLE");
    }
    const refused = await call("GET", "/runtime/modes");
    expect(refused.status).toBe(503);
    expect(refused.body.errorCode).toBe("CIRCUIT_BREAKER_OPEN");
    expect(refused.body.details.retryAt).toBe(new Date(now + RESET_MS).toISOString());
    expect((await call("GET", "/admin/circuit-breaker")).body).toMatchObject({ state: "OPEN", consecutiveFailures: 3, retryAt: new Date(now + RESET_MS).toISOString() });

    const ready = await waitFor("readyz reporting the open breaker", async () => {
      const response = await call("GET", "/readyz");
      return response.body.circuitBreaker === "OPEN" ? response : undefined;
    });
    expect(ready.status).toBe(503);
    expect(ready.body.ok).toBe(false);
    const history = (await call("GET", "/admin/circuit-breaker/history")).body;
    expect(history.state).toBe("OPEN");
    expect(history.history.map((entry: { state: string }) => entry.state)).toEqual(["CLOSED", "OPEN"]);
    expect(history.history[1].reason).toContain("3 consecutive failures");
    const metrics = (await call("GET", "/metrics")).text;
    expect(metrics).toMatch(/^circuit_breaker_state 1$/m);
  });

  it("closes by its background probe as soon as the runtime is back, without waiting out the open period", { timeout: 180_000 }, async () => {
    runtime = await spawnOnPort();
    // The breaker's clock stands still: only the probe can close it.
    const closed = await waitFor("the probe closing the breaker", async () => {
      const state = (await call("GET", "/admin/circuit-breaker")).body;
      return state.state === "CLOSED" ? state : undefined;
    }, 150_000);
    expect(closed).toMatchObject({ consecutiveFailures: 0, openedAt: null, retryAt: null });
    expect((await call("GET", "/runtime/modes")).status).toBe(200);
    const ready = await waitFor("ready again", async () => {
      const response = await call("GET", "/readyz");
      return response.status === 200 ? response : undefined;
    });
    expect(ready.body).toMatchObject({ ok: true, circuitBreaker: "CLOSED", runtime: { ok: true } });
    const history = (await call("GET", "/admin/circuit-breaker/history")).body.history;
    expect(history.map((entry: { state: string }) => entry.state)).toEqual(["CLOSED", "OPEN", "CLOSED"]);
    expect(history[2].reason).toBe("a probe reached the runtime");
  });

  it("a failed trial opens it again; an admin reset closes it; admin scope only", { timeout: 180_000 }, async () => {
    await runtime.stop();
    for (let failure = 1; failure <= 3; failure += 1) await call("GET", "/runtime/roots");
    expect((await call("GET", "/admin/circuit-breaker")).body.state).toBe("OPEN");
    now += RESET_MS;
    expect((await call("GET", "/runtime/roots")).body.errorCode).toBe("RUNTIME_UNAVAILABLE");
    expect((await call("GET", "/admin/circuit-breaker")).body.state).toBe("OPEN");

    expect((await call("POST", "/admin/circuit-breaker/reset", KEYS.reader)).status).toBe(403);
    expect((await call("GET", "/admin/circuit-breaker", KEYS.reader)).status).toBe(403);
    const reset = await call("POST", "/admin/circuit-breaker/reset");
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ status: "ok", state: "CLOSED" });
    expect((await call("GET", `/admin/circuit-breaker/history?since=${new Date(now).toISOString()}`)).body.history.at(-1)).toMatchObject({ state: "CLOSED", reason: "reset by an administrator" });
    expect((await call("GET", "/admin/circuit-breaker/history?window=15m")).status).toBe(400);
    runtime = await spawnOnPort();
    await waitFor(
      "the runtime answering again",
      async () => {
        if ((await call("GET", "/runtime/roots")).status === 200) return true;
        // Failures while the channel reconnects may open the breaker again: let its next trial through.
        now += RESET_MS;
        return undefined;
      },
      150_000,
    );
    expect((await call("GET", "/admin/circuit-breaker")).body.state).toBe("CLOSED");
  });
});

describe("runtime circuit breaker: session-stream traffic closes it", () => {
  const DECISION = "macp.mode.decision.v1";
  let port: number;
  let runtime: RuntimeDaemon;
  let cp: ControlPlaneHandle;
  const now = Date.parse("2026-12-06T12:00:00.000Z");
  const schema = freshSchema();
  // The runtime keeps its sessions across the restart (file storage).
  const dataDir = mkdtempSync(join(tmpdir(), "cp-breaker-runtime-"));
  const call = (method: string, path: string, body?: unknown): Promise<TestResponse> =>
    request(cp.url, method, path, { ...(body !== undefined ? { body } : {}), headers: { authorization: `Bearer ${KEYS.admin}` } });
  const spawnOnPort = () => spawnRuntime({ MACP_BIND_ADDR: `127.0.0.1:${port}`, MACP_MEMORY_ONLY: "0", MACP_DATA_DIR: dataDir });

  beforeAll(async () => {
    port = await freePort();
    runtime = await spawnOnPort();
    const config = loadConfig({
      ...BASE_ENV,
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: schema,
      RUNTIME_ADDRESS: runtime.address,
      RUNTIME_CIRCUIT_BREAKER_THRESHOLD: "3",
      RUNTIME_CIRCUIT_BREAKER_RESET_MS: String(RESET_MS),
      // No probe within the test: only stream traffic can close the breaker.
      RUNTIME_CIRCUIT_BREAKER_PROBE_MS: "3600000",
      STREAM_BACKOFF_BASE_MS: "50",
      STREAM_BACKOFF_MAX_MS: "500",
      AUTH_API_KEYS_JSON: JSON.stringify([{ id: "admin", key: KEYS.admin, scopes: ["admin", "runs:read", "runs:write"] }]),
    });
    cp = await startControlPlane(config, { logger: createLogger("silent"), breakerClock: () => now });
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    await dropSchema(schema);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a frame on a run's re-subscribed session stream closes the open breaker after the runtime comes back", { timeout: 180_000 }, async () => {
    const created = await call("POST", "/runs", {
      mode: "live",
      runtime: { kind: "rust" },
      session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 600_000, participants: [{ id: "alice" }, { id: "bob" }] },
      kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
    });
    expect(created.status).toBe(201);
    const { runId, sessionId } = created.body;
    await waitFor("the run running", async () => ((await call("GET", `/runs/${runId}`)).body.status === "running" ? true : undefined), 90_000);

    await runtime.stop();
    for (let failure = 1; failure <= 3; failure += 1) await call("GET", "/runtime/modes");
    expect((await call("GET", "/admin/circuit-breaker")).body.state).toBe("OPEN");
    runtime = await spawnOnPort();
    // An agent speaks; the control plane's ingest re-subscribes on its own backoff and gets the frame.
    await sendAccepted(runtime.client("bob"), modeMessage(DECISION, sessionId, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "ok" }));
    const history = await waitFor(
      "the breaker closed by stream traffic",
      async () => {
        const body = (await call("GET", "/admin/circuit-breaker/history")).body;
        return body.state === "CLOSED" ? body.history : undefined;
      },
      150_000,
    );
    expect(history.at(-1)).toMatchObject({ state: "CLOSED", reason: "a session stream frame reached the runtime" });
    expect((await call("GET", "/runtime/modes")).status).toBe(200);
  });
});
