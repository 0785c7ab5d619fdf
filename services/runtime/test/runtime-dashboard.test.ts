import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MacpClient } from "@macp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ackCode,
  metricValue,
  openDecisionSession,
  proposal,
  scrapeMetrics,
  sendAck,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const DECISION = "macp.mode.decision.v1";
const DASHBOARD = new URL("../../../deploy/grafana/runtime.json", import.meta.url);

let dataDir: string;
let runtime: TestRuntime;
let alice: MacpClient;
const scrape = (): Promise<string> => scrapeMetrics(runtime.handle.metricsUrl);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "macp-dashboard-"));
  // The file backend: the only one with fsync and group-commit metrics.
  runtime = await startTestRuntime({ MACP_METRICS_ADDR: "127.0.0.1:0", MACP_MEMORY_ONLY: "0", MACP_DATA_DIR: dataDir });
  alice = runtime.client(ALICE);
});
afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Every series name the exposition declares, with the sample names a histogram or summary adds. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!match?.[1]) continue;
    const [, name, type] = match;
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
  }
  return names;
}

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { definition?: string }[] };
}

/** The metric names a PromQL expression selects (the runtime's, the process's and Node's). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:macp|process|nodejs)_[a-z0-9_]+/g)].map((match) => match[0]);
}

describe("the Grafana dashboard deploy/grafana/runtime.json", () => {
  it("queries only metrics a running runtime exports", async () => {
    // Traffic first, so every labelled series has samples as it would in production.
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
    const exported = exportedNames(await scrape());
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    const expressions = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: panel.title, expr: target.expr }))),
      ...dashboard.templating.list.flatMap((variable) => (variable.definition ? [{ where: "templating", expr: variable.definition }] : [])),
    ];
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    const unknown: string[] = [];
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      expect(names, `${where}: ${expr}`).not.toHaveLength(0);
      for (const name of names) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
    }
    expect(unknown).toEqual([]);
    const used = new Set(expressions.flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      "macp_storage_append_duration_seconds_bucket",
      "macp_storage_fsync_duration_seconds_bucket",
      "macp_storage_group_commit_appends_count",
      "macp_recovery_duration_seconds",
      "macp_sessions",
      "macp_stream_lag_drops_total",
    ]) {
      expect(used).toContain(name);
    }
  });
});

describe("storage, recovery and session metrics", () => {
  it("times each durable append, each fsync and counts appends per group commit", async () => {
    const text0 = await scrape();
    const appends0 = metricValue(text0, "macp_storage_append_duration_seconds_count") ?? 0;
    const walSyncs0 = metricValue(text0, 'macp_storage_fsync_duration_seconds_count{kind="wal"}') ?? 0;
    const groups0 = metricValue(text0, "macp_storage_group_commit_appends_count") ?? 0;
    const grouped0 = metricValue(text0, "macp_storage_group_commit_appends_sum") ?? 0;
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
    const text = await scrape();
    // SessionStart and Proposal: two acknowledged appends, each durable before its Ack.
    expect(metricValue(text, "macp_storage_append_duration_seconds_count")).toBe(appends0 + 2);
    expect(metricValue(text, 'macp_storage_fsync_duration_seconds_count{kind="wal"}')).toBeGreaterThanOrEqual(walSyncs0 + 1);
    const groups = (metricValue(text, "macp_storage_group_commit_appends_count") ?? 0) - groups0;
    const grouped = (metricValue(text, "macp_storage_group_commit_appends_sum") ?? 0) - grouped0;
    expect(groups).toBeGreaterThanOrEqual(1);
    expect(grouped).toBe(2);
  });

  it("reports how long the last start's recovery took", async () => {
    const value = metricValue(await scrape(), "macp_recovery_duration_seconds");
    expect(value).toBeGreaterThanOrEqual(0);
  });

  it("counts sessions by mode and state, following cancellation", async () => {
    const open = `macp_sessions{mode="${DECISION}",state="Open"}`;
    const cancelled = `macp_sessions{mode="${DECISION}",state="Cancelled"}`;
    const before = await scrape();
    const open0 = metricValue(before, open) ?? 0;
    const cancelled0 = metricValue(before, cancelled) ?? 0;
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(metricValue(await scrape(), open)).toBe(open0 + 1);
    await alice.cancelSession({ sessionId, reason: "done" });
    const after = await scrape();
    expect(metricValue(after, open)).toBe(open0);
    expect(metricValue(after, cancelled)).toBe(cancelled0 + 1);
  });
});
