import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completedDecisionRun, startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { expectShape } from "./support/shape.js";
import { agentMetrics, auditList, dashboardOverview, readiness } from "./support/ui-shapes.js";

/** UI contract, operations (§1.5, §11): readiness, Prometheus metrics, audit, dashboard, per-agent metrics. */
describe("UI contract: readiness, metrics, audit and dashboard", () => {
  let stack: ContractStack;
  let runId: string;
  beforeAll(async () => {
    stack = await startContractStack();
    ({ runId } = await completedDecisionRun(stack, { scenarioRef: "ops-scenario@1", environment: "ops" }));
    await stack.cp.request("POST", `/runs/${runId}/archive`);
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("GET /readyz → {ok, database, runtime{ok, runtimeKind, detail}, streamConsumer, circuitBreaker}", async () => {
    const ready = await stack.cp.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expectShape(ready.body, readiness);
    expect(ready.body).toMatchObject({ ok: true, database: "ok", runtime: { ok: true }, streamConsumer: "ok" });
  });

  it("GET /metrics → Prometheus text", async () => {
    const metrics = await stack.cp.request("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(metrics.text).toMatch(/^# HELP /m);
    expect(metrics.text).toContain("http_requests_total");
  });

  it("GET /audit (the UI's default ?limit=100&offset=0 and its filters) → {data[{actor, actorType, action, resource, resourceId, details, requestId, createdAt}], total}", async () => {
    const all = await stack.cp.request("GET", "/audit?limit=100&offset=0");
    expect(all.status).toBe(200);
    expectShape(all.body, auditList);
    const archived = await stack.cp.request(
      "GET",
      `/audit?limit=100&offset=0&actor=dev&action=run.archived&resource=run&resourceId=${runId}&createdAfter=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&createdBefore=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
    );
    expect(archived.status).toBe(200);
    expectShape(archived.body, auditList);
    expect(archived.body.data).toMatchObject([{ actor: "dev", action: "run.archived", resource: "run", resourceId: runId }]);
    expect(archived.body.total).toBe(1);
  });

  it("GET /dashboard/overview for every window the UI offers, with scenario and environment filters → {kpis, charts{…{labels, data}}, recentRuns, runtimeHealth}", async () => {
    for (const window of ["15m", "1h", "6h", "24h", "7d", "30d"]) {
      const overview = await stack.cp.request("GET", `/dashboard/overview?window=${window}`);
      expect(overview.status).toBe(200);
      expectShape(overview.body, dashboardOverview);
      for (const series of Object.values(overview.body.charts) as { labels: string[]; data: number[] }[]) expect(series.data).toHaveLength(series.labels.length);
    }
    const filtered = await stack.cp.request("GET", "/dashboard/overview?window=24h&scenarioRef=ops-scenario%401&environment=ops");
    expectShape(filtered.body, dashboardOverview);
    expect(filtered.body.kpis).toMatchObject({ totalRuns: 1, completedRuns: 1 });
    expect(filtered.body.recentRuns.map((run: { id: string }) => run.id)).toEqual([runId]);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const ranged = await stack.cp.request("GET", `/dashboard/overview?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date().toISOString())}`);
    expect(ranged.status).toBe(200);
    expectShape(ranged.body, dashboardOverview);
  });

  it("GET /dashboard/agents/metrics → [{participantId, runs, signals, messages, averageConfidence}]", async () => {
    const metrics = await stack.cp.request("GET", "/dashboard/agents/metrics");
    expect(metrics.status).toBe(200);
    expectShape(metrics.body, agentMetrics);
    expect(metrics.body.map((entry: { participantId: string }) => entry.participantId).sort()).toEqual(["alice", "bob"]);
  });
});
