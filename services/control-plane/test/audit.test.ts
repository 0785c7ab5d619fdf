import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";

const OPS = { authorization: "Bearer ops-key" };
const CI = { authorization: "Bearer ci-key" };

describe("audit log of mutating calls (Postgres)", () => {
  let cp: TestControlPlane;
  const audit = async (query: string) => (await cp.request("GET", `/audit?${query}`, { headers: OPS })).body;
  beforeAll(async () => {
    cp = await startTestControlPlane("postgres", {
      AUTH_API_KEYS_JSON: JSON.stringify([
        { id: "ops", key: "ops-key", scopes: ["admin"] },
        { id: "ci", key: "ci-key", scopes: ["runs:read", "runs:write"] },
      ]),
    });
  });
  afterAll(async () => {
    await cp?.close();
  });

  it("records a call with the real principal, action, resource, id and request id", async () => {
    const runId = await seedRun(cp.handle.context);
    const response = await cp.request("POST", `/runs/${runId}/archive`, { headers: { ...CI, "x-request-id": "req-archive-1" } });
    expect(response.status).toBe(200);
    const { data, total } = await audit(`resourceId=${runId}`);
    expect(total).toBe(1);
    expect(data[0]).toMatchObject({
      id: expect.any(String),
      actor: "ci",
      actorType: "api-key",
      action: "run.archived",
      resource: "run",
      resourceId: runId,
      statusCode: 200,
      requestId: "req-archive-1",
      details: { method: "POST", route: "/runs/:id/archive", statusCode: 200, outcome: "succeeded", params: { id: runId } },
    });
    expect(new Date(data[0].createdAt).toISOString()).toBe(data[0].createdAt);
  });

  it("records refused calls with their error code, created resources by their new id, and redacts secrets", async () => {
    const running = await seedRun(cp.handle.context);
    expect((await cp.request("DELETE", `/runs/${running}`, { headers: CI })).status).toBe(409);
    const refused = (await audit(`resourceId=${running}&action=run.deleted`)).data;
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: "ci", statusCode: 409, details: { outcome: "failed", errorCode: "RUN_NOT_TERMINAL" } });

    const artifact = await cp.request("POST", `/runs/${running}/artifacts`, { headers: OPS, body: { kind: "json", label: "report", inline: { apiKey: "sk-live-123", score: 3 } } });
    expect(artifact.status).toBe(201);
    const [created] = (await audit(`resource=artifact&resourceId=${artifact.body.id}`)).data;
    expect(created).toMatchObject({ actor: "ops", action: "artifact.created", details: { body: { kind: "json", label: "report", inline: { apiKey: "[redacted]", score: 3 } } } });
    expect(JSON.stringify(created)).not.toContain("sk-live-123");

    await endRun(cp.handle.context, running, "completed");
    const batch = await cp.request("POST", "/runs/batch/delete", { headers: CI, body: { runIds: [running] } });
    expect(batch.body.results[0].ok).toBe(true);
    const [batchRow] = (await audit("action=run.batch_deleted")).data;
    expect(batchRow).toMatchObject({ actor: "ci", resource: "run", resourceId: null, details: { body: { runIds: [running] } } });
  });

  it("never records reads or unauthenticated calls; reading the log needs admin", async () => {
    const before = (await audit("limit=1")).total;
    const runId = await seedRun(cp.handle.context);
    expect((await cp.request("GET", `/runs/${runId}`, { headers: CI })).status).toBe(200);
    expect((await cp.request("POST", `/runs/${runId}/archive`)).status).toBe(401);
    expect((await cp.request("POST", `/runs/${runId}/archive`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await cp.request("GET", "/audit", { headers: CI })).status).toBe(403);
    expect((await audit("limit=1")).total).toBe(before);
  });

  it("filters by actor, action and time, pages newest first, and validates its query", async () => {
    const start = new Date().toISOString();
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const runId = await seedRun(cp.handle.context);
      ids.push(runId);
      await cp.request("POST", `/runs/${runId}/archive`, { headers: OPS });
    }
    const page = await audit(`actor=ops&action=run.archived&createdAfter=${encodeURIComponent(start)}&limit=2`);
    expect(page.total).toBe(3);
    expect(page.data.map((row: { resourceId: string }) => row.resourceId)).toEqual([ids[2], ids[1]]);
    const next = await audit(`actor=ops&action=run.archived&createdAfter=${encodeURIComponent(start)}&limit=2&offset=2`);
    expect(next.data.map((row: { resourceId: string }) => row.resourceId)).toEqual([ids[0]]);
    expect((await audit(`actor=ci&createdAfter=${encodeURIComponent(start)}`)).total).toBe(0);
    expect((await audit(`createdBefore=${encodeURIComponent(start)}&resourceId=${ids[0]}`)).total).toBe(0);
    expect((await cp.request("GET", "/audit?createdAfter=yesterday", { headers: OPS })).status).toBe(400);
    expect((await cp.request("GET", "/audit?limit=201", { headers: OPS })).status).toBe(400);
    expect((await cp.request("GET", `/audit?resourceId=${randomUUID()}`, { headers: OPS })).body).toEqual({ data: [], total: 0, limit: 50, offset: 0 });
  });
});
