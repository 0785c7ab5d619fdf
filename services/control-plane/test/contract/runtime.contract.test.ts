import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { arrayOf, expectShape } from "./support/shape.js";
import { policyAck, runtimeHealth, runtimeManifest, runtimeMode, runtimePolicy, runtimeRoot } from "./support/ui-shapes.js";

const MAJORITY = {
  voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } },
  objection_handling: { critical_severity_vetoes: false, veto_threshold: 1 },
  evaluation: { minimum_confidence: 0, required_before_voting: false },
  commitment: { authority: "initiator_only", require_vote_quorum: false, designated_roles: [] },
};

/** UI contract, runtime discovery and policies (§1.3, §11). */
describe("UI contract: runtime discovery and policies", () => {
  let stack: ContractStack;
  beforeAll(async () => {
    stack = await startContractStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("GET /runtime/manifest → {agentId, title, description, supportedModes[], metadata}", async () => {
    const manifest = await stack.cp.request("GET", "/runtime/manifest");
    expect(manifest.status).toBe(200);
    expectShape(manifest.body, runtimeManifest);
  });

  it("GET /runtime/modes → [{mode, modeVersion, title, description, determinismClass, participantModel, messageTypes, terminalMessageTypes, schemaUris}]", async () => {
    const modes = await stack.cp.request("GET", "/runtime/modes");
    expect(modes.status).toBe(200);
    expectShape(modes.body, arrayOf(runtimeMode, true));
    expect(modes.body.map((mode: { mode: string }) => mode.mode)).toContain("macp.mode.decision.v1");
  });

  it("GET /runtime/roots → [{uri, name}]", async () => {
    const roots = await stack.cp.request("GET", "/runtime/roots");
    expect(roots.status).toBe(200);
    expectShape(roots.body, arrayOf(runtimeRoot));
  });

  it("GET /runtime/health → {ok, runtimeKind, detail, manifest?}", async () => {
    const health = await stack.cp.request("GET", "/runtime/health");
    expect(health.status).toBe(200);
    expectShape(health.body, runtimeHealth);
    expect(health.body).toMatchObject({ ok: true, runtimeKind: "macp-ts" });
  });

  it("GET /runtime/policies[?mode=], GET /runtime/policies/:id → descriptors; POST and DELETE → {ok, error?}", async () => {
    const listed = await stack.cp.request("GET", "/runtime/policies");
    expect(listed.status).toBe(200);
    expectShape(listed.body, arrayOf(runtimePolicy, true));

    const registered = await stack.cp.request("POST", "/runtime/policies", { body: { policyId: "policy.contract", mode: "macp.mode.decision.v1", description: "contract test", rules: MAJORITY, schemaVersion: 1 } });
    expect(registered.status).toBe(201);
    expectShape(registered.body, policyAck);
    expect(registered.body.ok).toBe(true);

    const forMode = await stack.cp.request("GET", "/runtime/policies?mode=macp.mode.decision.v1");
    expectShape(forMode.body, arrayOf(runtimePolicy, true));
    const one = await stack.cp.request("GET", "/runtime/policies/policy.contract");
    expect(one.status).toBe(200);
    expectShape(one.body, runtimePolicy);
    expect(one.body).toMatchObject({ policyId: "policy.contract", mode: "macp.mode.decision.v1", description: "contract test", schemaVersion: 1 });

    const removed = await stack.cp.request("DELETE", "/runtime/policies/policy.contract");
    expect(removed.status).toBe(200);
    expectShape(removed.body, policyAck);
    expect(removed.body.ok).toBe(true);
  });
});
