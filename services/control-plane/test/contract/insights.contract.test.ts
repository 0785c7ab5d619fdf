import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completedDecisionRun, runningDecisionRun, startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { arrayOf, expectShape } from "./support/shape.js";
import { batchResult, exportBundle, rebuildResult, runComparison } from "./support/ui-shapes.js";

/** UI contract, run insights (§1.2, §11): compare, export, batch cancel/archive/delete, projection rebuild. */
describe("UI contract: insights and batch operations", () => {
  let stack: ContractStack;
  let left: string;
  let right: string;
  beforeAll(async () => {
    stack = await startContractStack();
    ({ runId: left } = await completedDecisionRun(stack));
    ({ runId: right } = await completedDecisionRun(stack));
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("POST /runs/compare {leftRunId, rightRunId} → RunComparisonResult", async () => {
    const compared = await stack.cp.request("POST", "/runs/compare", { body: { leftRunId: left, rightRunId: right } });
    expect(compared.status).toBe(200);
    expectShape(compared.body, runComparison);
    expect(compared.body).toMatchObject({ left: { runId: left, status: "completed", modeName: "macp.mode.decision.v1" }, right: { runId: right }, statusMatch: true });
    expect(compared.body.participantsDiff.common.sort()).toEqual(["alice", "bob"]);
  });

  it("GET /runs/:id/export with the UI's query → {run, session, projection, canonicalEvents, rawEvents, artifacts, metrics, exportedAt}", async () => {
    const plain = await stack.cp.request("GET", `/runs/${left}/export`);
    expect(plain.status).toBe(200);
    expectShape(plain.body, exportBundle);
    const full = await stack.cp.request("GET", `/runs/${left}/export?includeCanonical=true&includeRaw=true&eventLimit=500&format=json`);
    expect(full.status).toBe(200);
    expectShape(full.body, exportBundle);
    expect(full.body.run.id).toBe(left);
    expect(full.body.canonicalEvents.length).toBeGreaterThan(0);
    expect(full.body.rawEvents.length).toBeGreaterThan(0);
  });

  it("POST /runs/batch/export {runIds} → an array of export bundles", async () => {
    const exported = await stack.cp.request("POST", "/runs/batch/export", { body: { runIds: [left, right] } });
    expect(exported.status).toBe(200);
    expectShape(exported.body, arrayOf(exportBundle, true));
    expect(exported.body.map((bundle: { run: { id: string } }) => bundle.run.id)).toEqual([left, right]);
  });

  it("POST /runs/:id/projection/rebuild → {rebuilt, latestSeq}", async () => {
    const rebuilt = await stack.cp.request("POST", `/runs/${left}/projection/rebuild`);
    expect(rebuilt.status).toBe(200);
    expectShape(rebuilt.body, rebuildResult);
    const state = (await stack.cp.request("GET", `/runs/${left}/state`)).body;
    expect(rebuilt.body).toMatchObject({ rebuilt: true, latestSeq: state.timeline.latestSeq });
  });

  it("POST /runs/batch/cancel, /archive, /delete {runIds} → {results: [{runId, ok}]}, never shadowed by /runs/:id/…", { timeout: 120_000 }, async () => {
    const { runId: running } = await runningDecisionRun(stack);
    const cancelled = await stack.cp.request("POST", "/runs/batch/cancel", { body: { runIds: [running] } });
    expect(cancelled.status).toBe(200);
    expectShape(cancelled.body, batchResult);
    expect(cancelled.body.results).toMatchObject([{ runId: running, ok: true }]);
    expect((await stack.cp.request("GET", `/runs/${running}`)).body.status).toBe("cancelled");

    const archived = await stack.cp.request("POST", "/runs/batch/archive", { body: { runIds: [right, running] } });
    expect(archived.status).toBe(200);
    expectShape(archived.body, batchResult);
    expect(archived.body.results.map((result: { ok: boolean }) => result.ok)).toEqual([true, true]);

    const deleted = await stack.cp.request("POST", "/runs/batch/delete", { body: { runIds: [running] } });
    expect(deleted.status).toBe(200);
    expectShape(deleted.body, batchResult);
    expect(deleted.body.results).toMatchObject([{ runId: running, ok: true }]);
    expect((await stack.cp.request("GET", `/runs/${running}`)).status).toBe(404);
  });
});
