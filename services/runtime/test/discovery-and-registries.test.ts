import type { MacpClient } from "@macp/client";
import { ModeDescriptor, ModeId, PolicyDescriptor, STANDARD_MODE_IDS } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ackCode,
  failureOf,
  message,
  newSessionId,
  openDecisionSession,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const BUILTIN_MODES = [
  "ext.multi_round.v1",
  "macp.mode.decision.v1",
  "macp.mode.handoff.v1",
  "macp.mode.proposal.v1",
  "macp.mode.quorum.v1",
  "macp.mode.task.v1",
];

let runtime: TestRuntime;
let alice: MacpClient;

beforeAll(async () => {
  runtime = await startTestRuntime();
  alice = runtime.client(ALICE);
});
afterAll(() => runtime.close());

const ext = (mode: string, fields: Partial<ModeDescriptor> = {}): ModeDescriptor =>
  ModeDescriptor.fromPartial({
    mode,
    modeVersion: "1.0.0",
    title: "Test",
    messageTypes: ["SessionStart", "Ping", "Commitment"],
    terminalMessageTypes: ["Commitment"],
    ...fields,
  });

describe("Initialize", () => {
  it.each([
    { offered: [], status: "INVALID_ARGUMENT", details: "INVALID_REQUEST: supported_protocol_versions must not be empty" },
    { offered: ["2.0"], status: "FAILED_PRECONDITION", details: "UNSUPPORTED_PROTOCOL_VERSION: no mutually supported protocol version" },
    { offered: ["1.0.0", "1"], status: "FAILED_PRECONDITION", details: "UNSUPPORTED_PROTOCOL_VERSION: no mutually supported protocol version" },
  ])("offering $offered fails $status", async ({ offered, status, details }) => {
    expect(await failureOf(alice.initialize({ supportedProtocolVersions: offered }))).toEqual({ status, details });
  });

  it.each([[["1.0"]], [["2.0", "1.0"]], [["1.0", "0.9"]]])("offering %j selects 1.0", async (offered) => {
    expect((await alice.initialize({ supportedProtocolVersions: offered })).selectedProtocolVersion).toBe("1.0");
  });

  it("advertises capabilities (suspend/resume included) and every mode, sorted", async () => {
    const response = await runtime.client({}).initialize({ clientInfo: { name: "t", title: "", version: "1", description: "", websiteUrl: "" } });
    expect(response.capabilities).toMatchObject({
      sessions: { stream: true, listSessions: true, watchSessions: true },
      cancellation: { cancelSession: true },
      progress: { progress: true },
      manifest: { getManifest: true },
      modeRegistry: { listModes: true, listChanged: true },
      roots: { listRoots: true, listChanged: true },
      policyRegistry: { registerPolicy: true, listPolicies: true, listChanged: true },
    });
    expect(response.capabilities?.experimental?.features).toMatchObject({ ext_mode_lifecycle: "true", session_suspend_resume: "true" });
    expect(response.supportedModes).toEqual([...response.supportedModes].sort());
    expect(response.supportedModes).toEqual(expect.arrayContaining(BUILTIN_MODES));
    expect(response.runtimeInfo?.name).not.toBe("");
    expect(response.instructions).toContain("Bearer");
  });
});

describe("GetManifest", () => {
  it.each(["", "macp-runtime"])("agent id %j returns the runtime's manifest", async (agentId) => {
    const { manifest } = await alice.getManifest({ agentId });
    expect(manifest).toMatchObject({
      agentId: "macp-runtime",
      inputContentTypes: ["application/macp-envelope+proto"],
      outputContentTypes: ["application/macp-envelope+proto"],
      metadata: {},
      transportEndpoints: [],
    });
    expect(manifest?.supportedModes).toEqual(expect.arrayContaining(BUILTIN_MODES));
    expect(manifest?.supportedModes).toEqual([...(manifest?.supportedModes ?? [])].sort());
  });

  it("an unknown agent is NOT_FOUND", async () => {
    expect(await failureOf(alice.getManifest({ agentId: "agent://someone" }))).toEqual({
      status: "NOT_FOUND",
      details: "Agent 'agent://someone' not found",
    });
  });
});

describe("ListModes, ListExtModes, ListRoots", () => {
  it("ListModes lists the five standards-track modes in their fixed order", async () => {
    const { modes } = await runtime.client({}).listModes();
    expect(modes.slice(0, 5).map((m) => m.mode)).toEqual([...STANDARD_MODE_IDS]);
    expect(modes[0]).toMatchObject({
      mode: ModeId.Decision,
      modeVersion: "1.0.0",
      title: "Decision Mode",
      determinismClass: "semantic-deterministic",
      participantModel: "declared",
      messageTypes: ["SessionStart", "Proposal", "Evaluation", "Objection", "Vote", "Commitment"],
      terminalMessageTypes: ["Commitment"],
      schemaUris: { protobuf: "buf.build/multiagentcoordinationprotocol/macp" },
    });
  });

  it("ListExtModes lists extensions sorted by id, the built-in multi-round one included", async () => {
    const { modes } = await runtime.client({}).listExtModes();
    const ids = modes.map((m) => m.mode);
    expect(ids).toContain(ModeId.MultiRound);
    expect(ids).toEqual([...ids].sort());
  });

  it("ListRoots is empty", async () => {
    expect(await runtime.client({}).listRoots()).toEqual({ roots: [] });
  });
});

describe("extension mode lifecycle", () => {
  it("register → list → run a session → promote (renamed) → unregister refused → gone from listings as an extension", async () => {
    expect(await alice.registerExtMode({ modeDescriptor: ext("ext.zeta.v1") })).toEqual({ ok: true, error: "" });
    expect(await alice.registerExtMode({ modeDescriptor: ext("ext.alpha.v1") })).toEqual({ ok: true, error: "" });
    const extIds = (await alice.listExtModes()).modes.map((m) => m.mode);
    expect(extIds.filter((id) => ["ext.alpha.v1", "ext.multi_round.v1", "ext.zeta.v1"].includes(id))).toEqual([
      "ext.alpha.v1",
      "ext.multi_round.v1",
      "ext.zeta.v1",
    ]);
    expect((await alice.getManifest()).manifest?.supportedModes).toContain("ext.zeta.v1");

    // The passthrough handler runs it: declared types pass, others are refused.
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(alice, sessionStart({ mode: "ext.zeta.v1", sessionId, participants: [ALICE] })))).toBe("ok");
    const ping = (messageType: string, messageId: string) =>
      message({ mode: "ext.zeta.v1", sessionId, messageType, messageId, payload: new TextEncoder().encode("{}") });
    expect(ackCode(await sendAck(alice, ping("Ping", "m1")))).toBe("ok");
    expect(ackCode(await sendAck(alice, ping("Pong", "m2")))).toBe("INVALID_ENVELOPE");

    expect(await alice.promoteMode({ mode: "ext.zeta.v1", promotedModeName: "ext.zeta-std.v1" })).toEqual({
      ok: true,
      error: "",
      mode: "ext.zeta-std.v1",
    });
    const standard = (await alice.listModes()).modes.map((m) => m.mode);
    expect(standard.slice(0, 5)).toEqual([...STANDARD_MODE_IDS]);
    expect(standard).toContain("ext.zeta-std.v1");
    expect((await alice.listExtModes()).modes.map((m) => m.mode)).not.toContain("ext.zeta.v1");
    // The open session's mode vanished under its old name.
    expect(ackCode(await sendAck(alice, ping("Ping", "m3")))).toBe("MODE_NOT_SUPPORTED");

    expect(await alice.unregisterExtMode({ mode: "ext.zeta-std.v1" })).toEqual({
      ok: false,
      error: "cannot unregister standards-track mode 'ext.zeta-std.v1'",
    });
    expect(await alice.unregisterExtMode({ mode: "ext.alpha.v1" })).toEqual({ ok: true, error: "" });
    expect((await alice.listExtModes()).modes.map((m) => m.mode)).not.toContain("ext.alpha.v1");
  });

  it.each([
    { what: "a blank name", descriptor: ext("  "), error: "mode name must not be empty" },
    { what: "the reserved namespace", descriptor: ext("macp.mode.mine.v1"), error: "cannot register extension with reserved macp.mode.* namespace" },
    { what: "no message types", descriptor: ext("ext.empty.v1", { messageTypes: [], terminalMessageTypes: [] }), error: "extension descriptor must declare at least one message type" },
    { what: "a blank mode_version", descriptor: ext("ext.nover.v1", { modeVersion: " " }), error: "extension descriptor must bind mode_version" },
    { what: "a terminal type not declared", descriptor: ext("ext.term.v1", { terminalMessageTypes: ["Done"] }), error: "terminal message type 'Done' must also appear in message_types" },
    { what: "a built-in name", descriptor: ext(ModeId.MultiRound), error: "mode 'ext.multi_round.v1' is already registered" },
  ])("RegisterExtMode refuses $what", async ({ descriptor, error }) => {
    expect(await alice.registerExtMode({ modeDescriptor: descriptor })).toEqual({ ok: false, error });
  });

  it("RegisterExtMode without a descriptor is INVALID_ARGUMENT", async () => {
    expect(await failureOf(alice.registerExtMode({ modeDescriptor: undefined }))).toEqual({
      status: "INVALID_ARGUMENT",
      details: "descriptor required",
    });
  });

  it.each([
    { what: "an unknown mode", mode: "ext.nope.v1", error: "mode 'ext.nope.v1' not found" },
    { what: "the built-in extension", mode: ModeId.MultiRound, error: "cannot unregister built-in mode 'ext.multi_round.v1'" },
  ])("UnregisterExtMode refuses $what", async ({ mode, error }) => {
    expect(await alice.unregisterExtMode({ mode })).toEqual({ ok: false, error });
  });

  it.each([
    { what: "an unknown mode", mode: "ext.nope.v1", to: "", error: "mode 'ext.nope.v1' not found" },
    { what: "a standards-track mode", mode: ModeId.Decision, to: "", error: "mode 'macp.mode.decision.v1' is already standards-track" },
    { what: "a taken target name", mode: "ext.promote-me.v1", to: ModeId.Task, error: `cannot promote: target name '${ModeId.Task}' already exists` },
  ])("PromoteMode refuses $what", async ({ mode, to, error }) => {
    await alice.registerExtMode({ modeDescriptor: ext("ext.promote-me.v1") });
    expect(await alice.promoteMode({ mode, promotedModeName: to })).toEqual({ ok: false, error, mode: "" });
  });
});

describe("policy registry", () => {
  const policy = (policyId: string, fields: Partial<PolicyDescriptor> = {}): PolicyDescriptor =>
    PolicyDescriptor.fromPartial({ policyId, mode: ModeId.Decision, description: "test", rules: "{}", schemaVersion: 1, ...fields });

  it("register → get → list (sorted, filtered by mode) → unregister → NOT_FOUND", async () => {
    const rules = JSON.stringify({ voting: { algorithm: "majority" }, commitment: { authority: "initiator_only" } });
    expect(await alice.registerPolicy({ policyDescriptor: policy("policy.b-decision", { rules }) })).toEqual({ ok: true, error: "" });
    expect(await alice.registerPolicy({ policyDescriptor: policy("policy.a-task", { mode: ModeId.Task }) })).toEqual({ ok: true, error: "" });
    expect(await alice.registerPolicy({ policyDescriptor: policy("policy.c-any", { mode: "*" }) })).toEqual({ ok: true, error: "" });

    const { policyDescriptor } = await alice.getPolicy({ policyId: "policy.b-decision" });
    expect(policyDescriptor).toMatchObject({ policyId: "policy.b-decision", mode: ModeId.Decision, schemaVersion: 1, registeredAtUnixMs: 0n });
    expect(JSON.parse(policyDescriptor?.rules ?? "null")).toMatchObject({ voting: { algorithm: "majority" } });

    const all = (await alice.listPolicies()).descriptors.map((d) => d.policyId);
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(["policy.default", "policy.a-task", "policy.b-decision", "policy.c-any"]));
    const forDecision = (await alice.listPolicies({ mode: ModeId.Decision })).descriptors.map((d) => d.policyId);
    expect(forDecision).toEqual(expect.arrayContaining(["policy.default", "policy.b-decision", "policy.c-any"]));
    expect(forDecision).not.toContain("policy.a-task");

    expect(await alice.unregisterPolicy({ policyId: "policy.b-decision" })).toEqual({ ok: true, error: "" });
    expect(await failureOf(alice.getPolicy({ policyId: "policy.b-decision" }))).toEqual({
      status: "NOT_FOUND",
      details: "Policy 'policy.b-decision' not found",
    });
  });

  it("the default policy is listed and described", async () => {
    const { policyDescriptor } = await alice.getPolicy({ policyId: "policy.default" });
    expect(policyDescriptor).toMatchObject({ policyId: "policy.default", mode: "*", schemaVersion: 1 });
    expect(JSON.parse(policyDescriptor?.rules ?? "null")).toMatchObject({ commitment: { authority: "initiator_only" } });
  });

  it.each([
    { what: "a blank id", descriptor: policy("  "), error: "policy_id must not be empty" },
    { what: "the reserved id", descriptor: policy("policy.default"), error: "cannot register with reserved policy_id 'policy.default'" },
    { what: "schema_version 0", descriptor: policy("policy.v0", { schemaVersion: 0 }), error: "schema_version must be > 0" },
    { what: "rules that are not an object", descriptor: policy("policy.arr", { rules: "[1]" }), error: "rules must be a JSON object" },
    {
      what: "weighted voting without weights",
      descriptor: policy("policy.w", { rules: JSON.stringify({ voting: { algorithm: "weighted" } }) }),
      error: "voting.algorithm 'weighted' requires non-empty voting.weights",
    },
  ])("RegisterPolicy refuses $what", async ({ descriptor, error }) => {
    expect(await alice.registerPolicy({ policyDescriptor: descriptor })).toEqual({ ok: false, error });
  });

  it("RegisterPolicy refuses a duplicate id and a missing descriptor", async () => {
    expect((await alice.registerPolicy({ policyDescriptor: policy("policy.dup") })).ok).toBe(true);
    expect(await alice.registerPolicy({ policyDescriptor: policy("policy.dup") })).toEqual({
      ok: false,
      error: "policy 'policy.dup' is already registered",
    });
    expect(await failureOf(alice.registerPolicy({ policyDescriptor: undefined }))).toEqual({
      status: "INVALID_ARGUMENT",
      details: "descriptor required",
    });
  });

  it.each([
    { policyId: "policy.default", error: "cannot unregister the built-in default policy" },
    { policyId: "policy.never", error: "policy 'policy.never' not found" },
  ])("UnregisterPolicy $policyId → $error", async ({ policyId, error }) => {
    expect(await alice.unregisterPolicy({ policyId })).toEqual({ ok: false, error });
  });

  it("a session binds the policy it names; an unknown or mismatched one is refused", async () => {
    expect((await alice.registerPolicy({ policyDescriptor: policy("policy.for-task", { mode: ModeId.Task }) })).ok).toBe(true);
    expect((await alice.registerPolicy({ policyDescriptor: policy("policy.for-decision") })).ok).toBe(true);
    const start = (policyVersion: string) =>
      sendAck(alice, sessionStart({ sessionId: newSessionId(), participants: [ALICE], payload: { policyVersion } }));
    expect(ackCode(await start("policy.unknown"))).toBe("UNKNOWN_POLICY_VERSION");
    expect(ackCode(await start("policy.for-task"))).toBe("INVALID_POLICY_DEFINITION");
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect((await alice.getSession({ sessionId })).metadata?.policyVersion).toBe("policy.default");
    const bound = newSessionId();
    expect(ackCode(await sendAck(alice, sessionStart({ sessionId: bound, participants: [ALICE], payload: { policyVersion: "policy.for-decision" } })))).toBe("ok");
    // Unregistering later does not touch the session's copy.
    expect((await alice.unregisterPolicy({ policyId: "policy.for-decision" })).ok).toBe(true);
    expect((await alice.getSession({ sessionId: bound })).metadata?.policyVersion).toBe("policy.for-decision");
  });
});
