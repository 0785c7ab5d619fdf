import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";

const DECISION = "macp.mode.decision.v1";

function request(overrides: Record<string, unknown> = {}, session: Record<string, unknown> = {}) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }], ...session },
    ...overrides,
  };
}

const proposal = { from: "alice", to: ["bob"], messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } };

describe("POST /runs validation and regressions of the existing control plane (control-plane.md §6)", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;

  beforeAll(async () => {
    runtime = await spawnRuntime();
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, DB_POOL_MAX: "4" });
  });
  // 64 runs are open at the end; on a loaded CI machine releasing them can take longer than the default hook bound.
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
  }, 180_000);

  const running = (runId: string) =>
    waitFor(`run ${runId} running`, async () => ((await cp.request("GET", `/runs/${runId}`)).body.status === "running" ? true : undefined), 90_000);

  const issuesOf = async (body: unknown) => {
    const response = await cp.request("POST", "/runs", { body });
    expect(response.status).toBe(400);
    expect(response.body.errorCode).toBe("VALIDATION_ERROR");
    return response.body.details.issues.map((issue: { path: string }) => issue.path);
  };

  it("refuses an unknown runtime kind with 400 and the field path, and stays up (G-3)", async () => {
    expect(await issuesOf(request({ runtime: { kind: "python" } }))).toEqual(["body/runtime/kind"]);
    expect((await cp.request("GET", "/healthz")).status).toBe(200);
    const report = (await cp.request("POST", "/runs/validate", { body: request({ runtime: { kind: "python" } }) })).body;
    expect(report.valid).toBe(false);
    expect(report.errors[0]).toContain("body/runtime/kind");
    expect(report.runtime.reachable).toBe(true);
  });

  it("asks the runtime which modes exist", async () => {
    expect(await issuesOf(request({}, { modeName: "macp.mode.nope.v1" }))).toEqual(["body/session/modeName"]);
    const report = (await cp.request("POST", "/runs/validate", { body: request({ kickoff: [proposal] }) })).body;
    expect(report).toMatchObject({ valid: true, errors: [], runtime: { reachable: true } });
    expect(report.runtime.supportedModes).toContain(DECISION);
  });

  it("refuses kickoff senders and recipients that are not participants, and bad payloads, before creating anything", async () => {
    expect(await issuesOf(request({ kickoff: [{ ...proposal, from: "mallory" }] }))).toEqual(["body/kickoff/0/from", "body/kickoff/0/from"]);
    expect(await issuesOf(request({ kickoff: [{ ...proposal, to: ["nobody"] }] }))).toEqual(["body/kickoff/0/to/0"]);
    expect(await issuesOf(request({ kickoff: [{ ...proposal, payload: { proposal_id: "p1", option: "x", no_such_field: 1 } }] }))).toEqual(["body/kickoff/0/payload"]);
    expect(await issuesOf(request({ kickoff: [{ ...proposal, payload: undefined, payloadEnvelope: { encoding: "base64", base64: "not base64!" } }] }))).toEqual([
      "body/kickoff/0/payloadEnvelope/base64",
    ]);
    expect(await issuesOf(request({ kickoff: [{ ...proposal, payload: undefined, payloadEnvelope: { encoding: "text", json: { a: 1 } } }] }))).toEqual([
      "body/kickoff/0/payloadEnvelope/json",
    ]);
    expect(
      await issuesOf(request({ kickoff: [{ ...proposal, payload: undefined, payloadEnvelope: { encoding: "proto", proto: { typeName: "macp.modes.decision.v1.VotePayload", value: {} } } }] })),
    ).toEqual(["body/kickoff/0/payloadEnvelope/proto/typeName"]);
    expect(await issuesOf(request({}, { participants: [{ id: "alice" }, { id: "alice" }] }))).toEqual(["body/session/participants/1/id"]);
    expect(await issuesOf(request({}, { sessionId: "short" }))).toEqual(["body/session/sessionId"]);
    expect(await issuesOf(request({ mode: "replay" }))).toEqual(["body/mode"]);
    expect(await issuesOf(request({ unknownField: true }))).toEqual(["body/unknownField"]);
    expect(await issuesOf(request({}, { ttlMs: 86_400_001 }))).toEqual(["body/session/ttlMs"]);
    expect((await cp.request("GET", "/runs")).body.total).toBe(0);
  });

  it("accepts a proto payload envelope in camelCase and sends it", { timeout: 120_000 }, async () => {
    const created = await cp.request("POST", "/runs", {
      body: request({
        kickoff: [{ from: "alice", messageType: "Proposal", payloadEnvelope: { encoding: "proto", proto: { typeName: "macp.modes.decision.v1.ProposalPayload", value: { proposalId: "p9", option: "ship" } } } }],
      }),
    });
    expect(created.status).toBe(201);
    const events = await waitFor("the kickoff Proposal", async () => {
      const page = (await cp.request("GET", `/runs/${created.body.runId}/events?type=proposal.created`)).body;
      return page.data.length > 0 ? page.data : undefined;
    }, 90_000);
    expect(events[0].subject).toEqual({ kind: "proposal", id: "p9" });
  });

  it("never returns secrets from the stored request (G-20)", async () => {
    const created = await cp.request("POST", "/runs", {
      body: request({}, { metadata: { cancelCallback: { url: "https://agents.test/cancel", bearer: "s3cret" }, apiKey: "k-1", environment: "test" } }),
    });
    expect(created.status).toBe(201);
    const run = (await cp.request("GET", `/runs/${created.body.runId}`)).body;
    expect(run.metadata.executionRequest.session.metadata).toEqual({ cancelCallback: { url: "https://agents.test/cancel", bearer: "[redacted]" }, apiKey: "[redacted]", environment: "test" });
    expect(JSON.stringify((await cp.request("GET", "/runs?limit=200")).body)).not.toContain("s3cret");
    expect((await cp.request("POST", `/runs/${created.body.runId}/cancel`, { body: {} })).body.status).toBe("cancelled");
  });

  it("answers 413 for a body over 1 MB, not 500", async () => {
    const big = request({}, { metadata: { blob: "x".repeat(1_100_000) } });
    const response = await cp.request("POST", "/runs", { body: big });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ statusCode: 413, errorCode: "PAYLOAD_TOO_LARGE", requestId: expect.any(String) });
  });

  it("serves 64 concurrent POST /runs on a pool of 4 connections without a failure", { timeout: 120_000 }, async () => {
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, index) => cp.request("POST", "/runs", { body: request({ kickoff: [proposal], execution: { idempotencyKey: `burst-${index % 32}` } }) })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    // 32 distinct keys, each sent twice at once: one creation and one replay of the same run per key.
    expect(statuses.filter((status) => status === 201)).toHaveLength(32);
    expect(statuses.filter((status) => status === 200)).toHaveLength(32);
    expect(new Set(responses.map((response) => response.body.runId)).size).toBe(32);
  });

  it("cancels through the runtime with the initiator's credential", { timeout: 120_000 }, async () => {
    const created = (await cp.request("POST", "/runs", { body: request({ kickoff: [proposal] }) })).body;
    await running(created.runId);
    const cancelled = await cp.request("POST", `/runs/${created.runId}/cancel`, { body: { reason: "Cancelled from MACP UI" } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: created.runId, status: "cancelled" });
    const session = await runtime.client("alice").getSession({ sessionId: created.sessionId });
    expect(session.metadata?.state).toBe(5);
    expect((await cp.request("POST", `/runs/${created.runId}/cancel`, { body: {} })).body.status).toBe("cancelled");
    expect((await cp.request("POST", `/runs/${created.runId}/suspend`, { body: {} })).status).toBe(409);
    const deleted = await cp.request("DELETE", `/runs/${created.runId}`);
    expect(deleted.status).toBe(204);
    expect((await cp.request("GET", `/runs/${created.runId}`)).status).toBe(404);
  });

  it("suspends and resumes through the runtime, archives and clones", { timeout: 120_000 }, async () => {
    const created = (await cp.request("POST", "/runs", { body: request({ kickoff: [proposal], execution: { tags: ["t1"] } }) })).body;
    await running(created.runId);
    expect((await cp.request("POST", `/runs/${created.runId}/suspend`, { body: { reason: "pause" } })).body.status).toBe("suspended");
    expect((await cp.request("POST", `/runs/${created.runId}/resume`, { body: { reason: "go" } })).body.status).toBe("running");
    const types = (await cp.request("GET", `/runs/${created.runId}/events?type=run.suspended,run.resumed`)).body.data.map((event: { type: string }) => event.type);
    expect(types).toEqual(["run.suspended", "run.resumed"]);
    expect((await cp.request("DELETE", `/runs/${created.runId}`)).status).toBe(409);

    const archived = await cp.request("POST", `/runs/${created.runId}/archive`);
    expect(archived.body.archivedAt).toMatch(/Z$/);
    expect((await cp.request("GET", "/runs?tags=t1")).body.total).toBe(0);
    expect((await cp.request("GET", "/runs?tags=t1&includeArchived=true")).body.total).toBe(1);

    const clone = await cp.request("POST", `/runs/${created.runId}/clone`, { body: { tags: ["cloned"] } });
    expect(clone.status).toBe(201);
    expect(clone.body.runId).not.toBe(created.runId);
    expect(clone.body.sessionId).not.toBe(created.sessionId);
    const cloned = (await cp.request("GET", `/runs/${clone.body.runId}`)).body;
    expect(cloned.tags).toEqual(["cloned"]);
  });

  it("adds artifacts with an artifact.created event, and pages events across runs by (ts, runId, seq)", async () => {
    const created = (await cp.request("POST", "/runs", { body: request({ kickoff: [proposal] }) })).body;
    const artifact = await cp.request("POST", `/runs/${created.runId}/artifacts`, { body: { kind: "report", label: "summary", inline: { ok: true } } });
    expect(artifact.status).toBe(201);
    expect(artifact.body).toMatchObject({ runId: created.runId, kind: "report", label: "summary", inline: { ok: true }, uri: null });
    expect((await cp.request("GET", `/runs/${created.runId}/artifacts`)).body).toEqual([artifact.body]);
    expect((await cp.request("POST", `/runs/${randomUUID()}/artifacts`, { body: { kind: "log", label: "x" } })).status).toBe(404);

    // Runs still being driven keep appending; run.created and artifact.created events only come from these HTTP calls.
    const stable = "type=run.created,artifact.created";
    const all = (await cp.request("GET", `/events?${stable}&limit=1000`)).body;
    expect(all.data.length).toBeGreaterThan(30);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { id: string }[]; nextCursor: string | null } = (await cp.request("GET", `/events?${stable}&limit=7${cursor ? `&cursor=${cursor}` : ""}`)).body;
      seen.push(...page.data.map((event) => event.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.data.map((event: { id: string }) => event.id));
    expect(new Set(seen).size).toBe(all.total);
    const runEvents = (await cp.request("GET", `/events?runId=${created.runId}&type=artifact.created`)).body;
    expect(runEvents.data).toHaveLength(1);
    expect(runEvents.data[0]).toMatchObject({ runId: created.runId, type: "artifact.created", subject: { kind: "artifact", id: artifact.body.id } });
    expect((await cp.request("GET", "/events?afterSeq=3")).status).toBe(400);
    expect((await cp.request("GET", "/events?cursor=garbage")).status).toBe(400);
  });

  it("accepts this runtime's names for runtime.kind and an omitted runtime (RUNTIME_KIND default)", async () => {
    for (const kind of ["macp-ts", "rust", "rust-runtime", "macp-runtime"]) {
      expect((await cp.request("POST", "/runs/validate", { body: request({ runtime: { kind } }) })).body).toMatchObject({ valid: true, errors: [] });
    }
    const { runtime: _omitted, ...withoutRuntime } = request();
    const created = await cp.request("POST", "/runs", { body: withoutRuntime });
    expect(created.status).toBe(201);
    expect((await cp.request("GET", `/runs/${created.body.runId}`)).body.runtimeKind).toBe("macp-ts");
    const named = await cp.request("POST", "/runs", { body: request({ runtime: { kind: "macp-runtime", version: "0.1.0" } }) });
    expect((await cp.request("GET", `/runs/${named.body.runId}`)).body).toMatchObject({ runtimeKind: "macp-runtime", runtimeVersion: "0.1.0" });
  });
});
