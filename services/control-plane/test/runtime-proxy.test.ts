import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";

const MAJORITY = { voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } } };

describe("runtime discovery and policy proxies against the real runtime daemon (Postgres)", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  beforeAll(async () => {
    runtime = await spawnRuntime();
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address });
  }, 60_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
  });

  it("serves the manifest, modes, roots and health the UI reads", async () => {
    const manifest = await cp.request("GET", "/runtime/manifest");
    expect(manifest.status).toBe(200);
    expect(manifest.body).toMatchObject({ agentId: expect.any(String), title: expect.any(String), description: expect.any(String), metadata: expect.any(Object) });
    expect(manifest.body.supportedModes).toContain("macp.mode.decision.v1");

    const modes = await cp.request("GET", "/runtime/modes");
    expect(modes.status).toBe(200);
    const decision = modes.body.find((mode: { mode: string }) => mode.mode === "macp.mode.decision.v1");
    expect(decision).toMatchObject({ modeVersion: expect.any(String), title: expect.any(String), determinismClass: expect.any(String), participantModel: expect.any(String), schemaUris: expect.any(Object) });
    expect(decision.messageTypes).toContain("Proposal");
    expect(decision.terminalMessageTypes).toContain("Commitment");

    const roots = await cp.request("GET", "/runtime/roots");
    expect(roots.status).toBe(200);
    expect(Array.isArray(roots.body)).toBe(true);

    const health = await cp.request("GET", "/runtime/health");
    expect(health.body).toMatchObject({ ok: true, runtimeKind: "macp-ts", detail: "reachable", manifest: { supportedModes: expect.arrayContaining(["macp.mode.decision.v1"]) } });
  });

  it("lists, reads, registers and unregisters policies with parsed rules", async () => {
    const listed = await cp.request("GET", "/runtime/policies");
    expect(listed.status).toBe(200);
    const builtIn = listed.body.find((policy: { policyId: string }) => policy.policyId === "policy.default");
    expect(builtIn).toMatchObject({ mode: "*", schemaVersion: 1, registeredAtUnixMs: expect.any(Number), description: expect.any(String) });
    expect(builtIn.rules).toMatchObject({ commitment: { authority: "initiator_only" } });

    const created = await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.cp-majority", mode: "macp.mode.decision.v1", description: "two of three", rules: MAJORITY } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ ok: true });
    const one = await cp.request("GET", "/runtime/policies/policy.cp-majority");
    expect(one.body).toMatchObject({ policyId: "policy.cp-majority", mode: "macp.mode.decision.v1", description: "two of three", schemaVersion: 1, rules: { voting: { algorithm: "majority" } } });
    const forDecision = await cp.request("GET", "/runtime/policies?mode=macp.mode.decision.v1");
    expect(forDecision.body.map((policy: { policyId: string }) => policy.policyId)).toEqual(expect.arrayContaining(["policy.cp-majority", "policy.default"]));
    const forTask = await cp.request("GET", "/runtime/policies?mode=macp.mode.task.v1");
    expect(forTask.body.map((policy: { policyId: string }) => policy.policyId)).not.toContain("policy.cp-majority");

    const again = await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.cp-majority", mode: "macp.mode.decision.v1", rules: MAJORITY } });
    expect(again.status).toBe(409);
    expect(again.body.errorCode).toBe("POLICY_ALREADY_EXISTS");

    const removed = await cp.request("DELETE", "/runtime/policies/policy.cp-majority");
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ ok: true });
    const gone = await cp.request("GET", "/runtime/policies/policy.cp-majority");
    expect(gone.status).toBe(404);
    expect(gone.body.details.macpCode).toBeDefined();
    expect((await cp.request("DELETE", "/runtime/policies/policy.cp-majority")).body.errorCode).toBe("POLICY_NOT_FOUND");
  });

  it("refuses invalid definitions with the runtime's reason, and the built-in policy", async () => {
    const weighted = await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.w", mode: "macp.mode.decision.v1", rules: { voting: { algorithm: "weighted" } } } });
    expect(weighted.status).toBe(400);
    expect(weighted.body).toMatchObject({ errorCode: "INVALID_POLICY_DEFINITION", details: { ok: false, error: "voting.algorithm 'weighted' requires non-empty voting.weights" } });
    const reserved = await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.default", mode: "*", rules: {} } });
    expect(reserved.status).toBe(400);
    expect(reserved.body.details.issues[0].path).toBe("body/policyId");
    expect((await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.x", mode: "m", rules: [1] } })).status).toBe(400);
    expect((await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.x", mode: "m", rules: {}, schemaVersion: 0 } })).status).toBe(400);
    expect((await cp.request("DELETE", "/runtime/policies/policy.default")).status).toBe(409);
  });
});

describe("runtime proxies when the runtime refuses or is down", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  let down: TestControlPlane;
  beforeAll(async () => {
    // The control plane's credential is an observer token without registry rights.
    runtime = await spawnRuntime({ MACP_AUTH_TOKENS_JSON: JSON.stringify([{ token: "observer-token", sender: "control-plane", is_observer: true }]) });
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, RUNTIME_BEARER_TOKEN: "observer-token", RUNTIME_DEV_AUTH: "false" });
    down = await startTestControlPlane("postgres");
  }, 60_000);
  afterAll(async () => {
    await cp?.close();
    await down?.close();
    await runtime?.stop();
  });

  it("maps PERMISSION_DENIED on RegisterPolicy to 403 FORBIDDEN, reads still work", async () => {
    const refused = await cp.request("POST", "/runtime/policies", { body: { policyId: "policy.obs", mode: "macp.mode.decision.v1", rules: MAJORITY } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ errorCode: "FORBIDDEN", details: { grpcCode: 7 } });
    expect((await cp.request("GET", "/runtime/policies")).status).toBe(200);
  });

  it("answers 503 RUNTIME_UNAVAILABLE for discovery and ok:false for health when nothing listens", async () => {
    const manifest = await down.request("GET", "/runtime/manifest");
    expect(manifest.status).toBe(503);
    expect(manifest.body.errorCode).toBe("RUNTIME_UNAVAILABLE");
    const health = await down.request("GET", "/runtime/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: false, runtimeKind: "macp-ts", detail: expect.any(String) });
  });
});
