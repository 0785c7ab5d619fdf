import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completedDecisionRun, decisionLaunch, runningDecisionRun, startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { arrayOf, expectShape, objectWith } from "./support/shape.js";
import { createRunResponse, runRecord, validateRunResponse } from "./support/ui-shapes.js";

/** UI contract, runs group (control-plane-api.md §1.1, §11): validate, create, list, read, control, clone, archive, delete. */
describe("UI contract: runs", () => {
  let stack: ContractStack;
  let completed: { runId: string; sessionId: string };
  beforeAll(async () => {
    stack = await startContractStack();
    completed = await completedDecisionRun(stack, { scenarioRef: "vendor-choice@1.0.0", environment: "staging", tags: ["contract", "listed"] });
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("POST /runs/validate → {valid, errors[], warnings[], runtime{reachable, supportedModes, capabilities}}", async () => {
    const valid = await stack.cp.request("POST", "/runs/validate", { body: decisionLaunch() });
    expect(valid.status).toBe(200);
    expectShape(valid.body, validateRunResponse);
    expect(valid.body).toMatchObject({ valid: true, errors: [], runtime: { reachable: true } });
    expect(valid.body.runtime.supportedModes).toContain("macp.mode.decision.v1");

    const request = decisionLaunch();
    const invalid = await stack.cp.request("POST", "/runs/validate", { body: { ...request, runtime: { kind: "python" } } });
    expect(invalid.status).toBe(200);
    expectShape(invalid.body, validateRunResponse);
    expect(invalid.body.valid).toBe(false);
    expect(invalid.body.errors.join(" ")).toContain("runtime/kind");
  });

  it("POST /runs → 201 {runId, sessionId, status, traceId}", async () => {
    const created = await stack.cp.request("POST", "/runs", { body: decisionLaunch() });
    expect(created.status).toBe(201);
    expectShape(created.body, createRunResponse);
    expect(created.body.status).toBe("queued");
  });

  it("GET /runs with every query the UI sends → {data[], total}; each run passes normalizeRun", async () => {
    const query = new URLSearchParams({
      limit: "200",
      offset: "0",
      status: "completed",
      environment: "staging",
      search: "vendor",
      scenarioRef: "vendor-choice@1.0.0",
      sortBy: "updatedAt",
      sortOrder: "asc",
      createdAfter: new Date(Date.now() - 3_600_000).toISOString(),
      createdBefore: new Date(Date.now() + 3_600_000).toISOString(),
      includeArchived: "true",
      tags: "contract,listed",
    });
    const listed = await stack.cp.request("GET", `/runs?${query}`);
    expect(listed.status).toBe(200);
    expectShape(listed.body, objectWith({ data: arrayOf(runRecord, true), total: "integer" }));
    expect(listed.body.data.map((run: { id: string }) => run.id)).toEqual([completed.runId]);
    expect(listed.body.total).toBe(1);
    const run = listed.body.data[0];
    expect(run.metadata).toMatchObject({ environment: "staging", scenarioRef: "vendor-choice@1.0.0" });
    expect(run).toMatchObject({ sourceKind: "contract-test", sourceRef: "vendor-choice", source: { kind: "contract-test", ref: "vendor-choice" }, archivedAt: null });

    const plain = await stack.cp.request("GET", "/runs?limit=200&offset=0");
    expectShape(plain.body, objectWith({ data: arrayOf(runRecord, true), total: "integer" }));
  });

  it("GET /runs/:id → the run record with ISO timestamps", async () => {
    const got = await stack.cp.request("GET", `/runs/${completed.runId}`);
    expect(got.status).toBe(200);
    expectShape(got.body, runRecord);
    expect(got.body).toMatchObject({ id: completed.runId, status: "completed", runtimeKind: "rust", runtimeSessionId: completed.sessionId });
    expect(got.body.startedAt).not.toBeNull();
    expect(got.body.endedAt).not.toBeNull();
  });

  it("POST /runs/:id/suspend and /resume {reason} → {id, status}", { timeout: 120_000 }, async () => {
    const { runId } = await runningDecisionRun(stack);
    const suspended = await stack.cp.request("POST", `/runs/${runId}/suspend`, { body: { reason: "Suspended from MACP UI" } });
    expect(suspended.status).toBe(200);
    expectShape(suspended.body, runRecord);
    expect(suspended.body).toMatchObject({ id: runId, status: "suspended" });
    const resumed = await stack.cp.request("POST", `/runs/${runId}/resume`, { body: { reason: "Resumed from MACP UI" } });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: runId, status: "running" });
  });

  it("POST /runs/:id/cancel {reason} → {id, status: cancelled}", { timeout: 120_000 }, async () => {
    const { runId } = await runningDecisionRun(stack);
    const cancelled = await stack.cp.request("POST", `/runs/${runId}/cancel`, { body: { reason: "Cancelled from MACP UI" } });
    expect(cancelled.status).toBe(200);
    expectShape(cancelled.body, runRecord);
    expect(cancelled.body).toMatchObject({ id: runId, status: "cancelled" });
  });

  it("POST /runs/:id/clone {tags} → {runId, sessionId, status, traceId}; a non-empty context is accepted as an override", async () => {
    const cloned = await stack.cp.request("POST", `/runs/${completed.runId}/clone`, { body: { tags: ["clone"] } });
    expect(cloned.status).toBe(201);
    expectShape(cloned.body, createRunResponse);
    expect(cloned.body.runId).not.toBe(completed.runId);
    const withContext = await stack.cp.request("POST", `/runs/${completed.runId}/clone`, { body: { context: { ticket: "T-1" } } });
    expect(withContext.status).toBe(201);
    expectShape(withContext.body, createRunResponse);
  });

  it("POST /runs/:id/archive (no body) → {id}; archived runs appear with includeArchived=true", async () => {
    const archived = await stack.cp.request("POST", `/runs/${completed.runId}/archive`);
    expect(archived.status).toBe(200);
    expectShape(archived.body, runRecord);
    expect(archived.body.id).toBe(completed.runId);
    expect(archived.body.archivedAt).not.toBeNull();
    const hidden = (await stack.cp.request("GET", "/runs?limit=200&offset=0&tags=listed")).body;
    expect(hidden.data.map((run: { id: string }) => run.id)).not.toContain(completed.runId);
    const shown = (await stack.cp.request("GET", "/runs?limit=200&offset=0&tags=listed&includeArchived=true")).body;
    expect(shown.data.map((run: { id: string }) => run.id)).toContain(completed.runId);
  });

  it("DELETE /runs/:id → 204 with an empty body", { timeout: 120_000 }, async () => {
    const { runId } = await completedDecisionRun(stack);
    const deleted = await stack.cp.request("DELETE", `/runs/${runId}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect((await stack.cp.request("GET", `/runs/${runId}`)).status).toBe(404);
  });
});
