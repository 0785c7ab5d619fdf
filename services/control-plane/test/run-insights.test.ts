import { randomUUID } from "node:crypto";
import { controlPlaneEvent, participantSeenEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlPlaneContext } from "../src/context.js";
import { eventStore } from "@macp/pipeline";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";

async function append(ctx: ControlPlaneContext, runId: string, key: string, drafts: ReturnType<typeof participantSeenEvent>[]): Promise<void> {
  const result = await ctx.database.db.transaction().execute((trx) => eventStore.appendControl(trx, runId, { rawKey: key, drafts }));
  ctx.lifecycle.publish(result);
}

const signal = (name: string) => controlPlaneEvent("signal.emitted", { ts: new Date().toISOString() }, { kind: "signal", id: randomUUID() }, { messageType: "Signal", payload: { signalType: name } });

describe("run insights: export, compare, batch, projection rebuild, removed routes (Postgres)", () => {
  let cp: TestControlPlane;
  let ctx: ControlPlaneContext;
  let left: string;
  let right: string;
  beforeAll(async () => {
    cp = await startTestControlPlane("postgres");
    ctx = cp.handle.context;
    left = await seedRun(ctx);
    right = await seedRun(ctx);
    await append(ctx, left, "l1", [participantSeenEvent({ ts: new Date().toISOString(), participantId: "alice" }), participantSeenEvent({ ts: new Date().toISOString(), participantId: "bob" })]);
    await append(ctx, left, "l2", [signal("alert")]);
    await append(ctx, right, "r1", [participantSeenEvent({ ts: new Date().toISOString(), participantId: "bob" }), participantSeenEvent({ ts: new Date().toISOString(), participantId: "carol" })]);
    await append(ctx, right, "r2", [signal("done")]);
    await endRun(ctx, left, "completed");
    await endRun(ctx, right, "failed");
  });
  afterAll(async () => {
    await cp?.close();
  });

  it("exports a run as one bundle with the nested event shape of /events", async () => {
    const response = await cp.request("GET", `/runs/${left}/export?includeRaw=true`);
    expect(response.status).toBe(200);
    const bundle = response.body;
    expect(Object.keys(bundle).sort()).toEqual(["artifacts", "canonicalEvents", "exportedAt", "metrics", "projection", "rawEvents", "run", "session", "truncated"]);
    expect(bundle.run).toMatchObject({ id: left, status: "completed", runtimeKind: "rust", source: { kind: null, ref: null } });
    expect(bundle.session).toBeNull();
    expect(bundle.projection.participants.map((p: { participantId: string }) => p.participantId).sort()).toEqual(["alice", "bob"]);
    expect(bundle.metrics.runId).toBe(left);
    expect(bundle.artifacts).toEqual([]);
    expect(bundle.rawEvents).toEqual([]);
    expect(Date.parse(bundle.exportedAt)).not.toBeNaN();
    const events = (await cp.request("GET", `/runs/${left}/events?limit=1000`)).body.data;
    expect(bundle.canonicalEvents).toEqual(events);
    expect(bundle.canonicalEvents[0]).toMatchObject({ runId: left, seq: 1, source: { kind: "control-plane" } });
    expect(bundle.truncated).toEqual({ canonicalEvents: false, rawEvents: false });
  });

  it("cuts at eventLimit and says so; jsonl keeps each event whole under `event`", async () => {
    const cut = await cp.request("GET", `/runs/${left}/export?eventLimit=2&includeCanonical=true`);
    expect(cut.body.canonicalEvents.map((event: { seq: number }) => event.seq)).toEqual([1, 2]);
    expect(cut.body.truncated.canonicalEvents).toBe(true);
    const none = await cp.request("GET", `/runs/${left}/export?includeCanonical=false`);
    expect(none.body.canonicalEvents).toEqual([]);

    const lines = await fetch(`${cp.url}/runs/${left}/export?format=jsonl`);
    expect(lines.status).toBe(200);
    expect(lines.headers.get("content-type")).toContain("application/x-ndjson");
    const records = (await lines.text()).trim().split("\n").map((line) => JSON.parse(line));
    expect(records[0]).toMatchObject({ type: "header", run: { id: left }, exportedAt: expect.any(String) });
    expect(records[0].canonicalEvents).toBeUndefined();
    const events = records.slice(1);
    expect(events.every((record: { type: string }) => record.type === "canonical_event")).toBe(true);
    expect(events.map((record: { event: { type: string } }) => record.event.type)).toContain("signal.emitted");
  });

  it("refuses bad export queries and unknown runs", async () => {
    expect((await cp.request("GET", `/runs/${left}/export?format=xml`)).status).toBe(400);
    expect((await cp.request("GET", `/runs/${left}/export?eventLimit=50001`)).status).toBe(400);
    expect((await cp.request("GET", `/runs/${left}/export?extra=1`)).status).toBe(400);
    expect((await cp.request("GET", `/runs/${randomUUID()}/export`)).body.errorCode).toBe("RUN_NOT_FOUND");
  });

  it("compares two runs: status, participants and signal names (right minus left)", async () => {
    const response = await cp.request("POST", "/runs/compare", { body: { leftRunId: left, rightRunId: right } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      left: { runId: left, status: "completed" },
      right: { runId: right, status: "failed" },
      statusMatch: false,
      confidenceDelta: null,
      participantsDiff: { added: ["carol"], removed: ["alice"], common: ["bob"] },
      signalsDiff: { added: ["done"], removed: ["alert"] },
    });
    expect(response.body).toHaveProperty("durationDeltaMs");
    expect((await cp.request("POST", "/runs/compare", { body: { leftRunId: left } })).status).toBe(400);
    expect((await cp.request("POST", "/runs/compare", { body: { leftRunId: left, rightRunId: randomUUID() } })).status).toBe(404);
  });

  it("batch routes are not shadowed by /runs/:id/…: batch/cancel reports per run", async () => {
    const running = await seedRun(ctx);
    const unknown = randomUUID();
    const response = await cp.request("POST", "/runs/batch/cancel", { body: { runIds: [running, left, unknown] } });
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      { runId: running, ok: true, status: "cancelled" },
      { runId: left, ok: false, error: { statusCode: 409, errorCode: "INVALID_STATE_TRANSITION", message: expect.any(String) } },
      { runId: unknown, ok: false, error: { statusCode: 404, errorCode: "RUN_NOT_FOUND", message: expect.any(String) } },
    ]);
    expect((await cp.request("GET", `/runs/${running}`)).body.status).toBe("cancelled");
  });

  it("batch archive, export and delete; bodies are validated and bounded", async () => {
    const archived = await cp.request("POST", "/runs/batch/archive", { body: { runIds: [left] } });
    expect(archived.body.results).toEqual([{ runId: left, ok: true, status: "archived" }]);
    expect((await cp.request("GET", `/runs/${left}`)).body.archivedAt).not.toBeNull();

    const exported = await cp.request("POST", "/runs/batch/export", { body: { runIds: [left, right] } });
    expect(exported.status).toBe(200);
    // The UI's batchExport reads a bare array of export bundles (control-plane-api.md §11).
    expect(Array.isArray(exported.body)).toBe(true);
    expect(exported.body.map((bundle: { run: { id: string } }) => bundle.run.id)).toEqual([left, right]);
    const single = (await cp.request("GET", `/runs/${left}/export`)).body;
    expect({ ...exported.body[0], exportedAt: single.exportedAt }).toEqual(single);
    const unknown = randomUUID();
    const missing = await cp.request("POST", "/runs/batch/export", { body: { runIds: [left, unknown] } });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errorCode: "RUN_NOT_FOUND", details: { runIds: [unknown] } });

    const doomed = await seedRun(ctx);
    await endRun(ctx, doomed, "completed");
    const live = await seedRun(ctx);
    const deleted = await cp.request("POST", "/runs/batch/delete", { body: { runIds: [doomed, live] } });
    expect(deleted.body.results).toEqual([
      { runId: doomed, ok: true, status: "deleted" },
      { runId: live, ok: false, error: { statusCode: 409, errorCode: "RUN_NOT_TERMINAL", message: expect.any(String) } },
    ]);
    expect((await cp.request("GET", `/runs/${doomed}`)).status).toBe(404);

    expect((await cp.request("POST", "/runs/batch/archive", { body: { runIds: [] } })).status).toBe(400);
    expect((await cp.request("POST", "/runs/batch/archive", { body: { runIds: ["batch"] } })).status).toBe(400);
    const tooMany = Array.from({ length: 101 }, () => randomUUID());
    const refused = await cp.request("POST", "/runs/batch/delete", { body: { runIds: tooMany } });
    expect(refused.status).toBe(400);
    expect(refused.body.details.issues[0].path).toBe("body/runIds");
    expect((await cp.request("POST", "/runs/batch/export", { body: { runIds: tooMany.slice(0, 21) } })).status).toBe(400);
  });

  it("rebuilds a projection from the stored events", async () => {
    const before = (await cp.request("GET", `/runs/${right}/state`)).body;
    await ctx.database.db.updateTable("run_projections").set({ state: JSON.stringify({ ...before, participants: [] }) }).where("run_id", "=", right).execute();
    await ctx.database.db.deleteFrom("run_metrics").where("run_id", "=", right).execute();
    expect((await cp.request("GET", `/runs/${right}/state`)).body.participants).toEqual([]);

    const response = await cp.request("POST", `/runs/${right}/projection/rebuild`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ rebuilt: true, latestSeq: before.timeline.latestSeq, eventCount: before.timeline.totalEvents });
    expect((await cp.request("GET", `/runs/${right}/state`)).body).toEqual(before);
    expect((await cp.request("GET", `/runs/${right}/metrics`)).body.eventCount).toBe(before.timeline.totalEvents);
    expect((await cp.request("POST", `/runs/${randomUUID()}/projection/rebuild`)).status).toBe(404);
  });

  it("message injection routes answer 410 ENDPOINT_REMOVED", async () => {
    for (const path of ["messages", "signal", "context"]) {
      const response = await cp.request("POST", `/runs/${right}/${path}`, { body: { from: "alice" } });
      expect(response.status).toBe(410);
      expect(response.body).toMatchObject({ statusCode: 410, errorCode: "ENDPOINT_REMOVED", message: expect.stringContaining("SDK") });
    }
  });
});
