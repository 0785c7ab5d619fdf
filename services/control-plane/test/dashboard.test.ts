import { controlPlaneEvent, participantSeenEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlPlaneContext } from "../src/context.js";
import { eventStore } from "@macp/pipeline";
import { DATABASE_KINDS, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";

async function append(ctx: ControlPlaneContext, runId: string, key: string, drafts: ReturnType<typeof participantSeenEvent>[]): Promise<void> {
  await ctx.database.db.transaction().execute((trx) => eventStore.appendControl(trx, runId, { rawKey: key, drafts }));
}

describe.each(DATABASE_KINDS)("dashboard overview and agent metrics from SQL aggregates (%s)", (kind) => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane(kind);
    const ctx = cp.handle.context;
    const done = await seedRun(ctx);
    await append(ctx, done, "a", [participantSeenEvent({ ts: new Date().toISOString(), participantId: "alice" })]);
    await append(ctx, done, "s", [controlPlaneEvent("signal.emitted", { ts: new Date().toISOString() }, { kind: "signal", id: "s1" }, { sender: "alice", messageType: "Signal", payload: { signalType: "alert" } })]);
    await ctx.database.db.updateTable("runs").set({ started_at: new Date(Date.now() - 2000), source_ref: "scenario-a" }).where("id", "=", done).execute();
    await endRun(ctx, done, "completed");
    const failed = await seedRun(ctx);
    await append(ctx, failed, "b", [participantSeenEvent({ ts: new Date().toISOString(), participantId: "alice" }), participantSeenEvent({ ts: new Date().toISOString(), participantId: "bob" })]);
    await endRun(ctx, failed, "failed");
    await seedRun(ctx);
  });
  afterAll(async () => {
    await cp?.close();
  });

  it("serves the KPIs, series, recent runs and runtime health the UI reads", async () => {
    const response = await cp.request("GET", "/dashboard/overview?window=1h");
    expect(response.status).toBe(200);
    const { kpis, charts, recentRuns, runtimeHealth } = response.body;
    expect(kpis).toMatchObject({ totalRuns: 3, activeRuns: 1, completedRuns: 1, failedRuns: 1, cancelledRuns: 0, totalSignals: 1, totalTokens: 0, totalCostUsd: 0, successRate: 50 });
    expect(kpis.avgDurationMs).toBeGreaterThanOrEqual(2000);
    for (const name of ["runVolume", "latency", "errorClasses", "signalVolume", "throughput", "queueDepth", "latencyP50", "latencyP95", "latencyP99", "cost", "successRate", "decisionOutcome", "perScenario"]) {
      expect(charts[name].labels.length).toBe(charts[name].data.length);
    }
    // Epoch-aligned minute buckets: the first one may start before the window (60 or 61 of them).
    expect(charts.runVolume.labels.length).toBeGreaterThanOrEqual(60);
    expect(charts.runVolume.labels.length).toBeLessThanOrEqual(61);
    expect(Date.parse(charts.runVolume.labels[1]) - Date.parse(charts.runVolume.labels[0])).toBe(60_000);
    expect(charts.runVolume.data.reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(charts.throughput.data.reduce((a: number, b: number) => a + b, 0)).toBe(1);
    expect(charts.signalVolume.data.reduce((a: number, b: number) => a + b, 0)).toBe(1);
    expect(charts.perScenario).toEqual({ labels: ["scenario-a"], data: [1] });
    expect(charts.errorClasses.data.reduce((a: number, b: number) => a + b, 0)).toBe(1);
    expect(recentRuns).toHaveLength(3);
    expect(recentRuns[0]).toEqual({ id: expect.any(String), status: "running", runtimeKind: "rust", sourceRef: null, startedAt: null, endedAt: null, createdAt: expect.any(String) });
    expect(runtimeHealth).toMatchObject({ ok: false, runtimeKind: "macp-ts", detail: expect.any(String) });
  });

  it("accepts the UI's 15m window, filters by scenario, and refuses bad windows", async () => {
    const quarter = await cp.request("GET", "/dashboard/overview?window=15m");
    expect(quarter.status).toBe(200);
    expect([15, 16]).toContain(quarter.body.charts.runVolume.labels.length);
    const scenario = await cp.request("GET", "/dashboard/overview?window=24h&scenarioRef=scenario-a");
    expect(scenario.body.kpis.totalRuns).toBe(1);
    expect([24, 25]).toContain(scenario.body.charts.runVolume.labels.length);
    const old = await cp.request("GET", `/dashboard/overview?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`);
    expect(old.body.kpis.totalRuns).toBe(0);
    expect((await cp.request("GET", "/dashboard/overview?window=2h")).status).toBe(400);
    expect((await cp.request("GET", "/dashboard/overview?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z")).status).toBe(400);
  });

  it("aggregates per participant", async () => {
    const response = await cp.request("GET", "/dashboard/agents/metrics");
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      { participantId: "alice", runs: 2, messages: 0, signals: 1, averageConfidence: 0 },
      { participantId: "bob", runs: 1, messages: 0, signals: 0, averageConfidence: 0 },
    ]);
  });
});
