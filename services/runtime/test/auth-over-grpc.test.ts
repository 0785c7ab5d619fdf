import { buildSignal } from "@macp/client";
import type { ClientAuth, MacpClient } from "@macp/client";
import { ModeDescriptor, ModeId, PolicyDescriptor } from "@macp/protocol";
import { SignJWT, base64url } from "jose";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  failureOf,
  frameIds,
  newSessionId,
  openDecisionSession,
  proposal,
  sendAck,
  sessionStart,
  startTestRuntime,
  statusOf,
  type TestRuntime,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const BOB = "agent://bob";

const EXT_MODE = ModeDescriptor.fromPartial({
  mode: "ext.auth-matrix.v1",
  modeVersion: "1.0.0",
  messageTypes: ["SessionStart", "Ping", "Commitment"],
  terminalMessageTypes: ["Commitment"],
});

const POLICY = PolicyDescriptor.fromPartial({
  policyId: "policy.auth-matrix",
  mode: "*",
  description: "auth matrix",
  rules: "{}",
  schemaVersion: 1,
});

/** A fresh ambient Signal. */
const signal = (): ReturnType<typeof buildSignal> =>
  buildSignal({ messageId: newSessionId(), payload: { signalType: "heartbeat" } });

describe("static tokens: capability flags over gRPC", () => {
  let runtime: TestRuntime;
  let alice: MacpClient;
  let bob: MacpClient;

  beforeAll(async () => {
    runtime = await startTestRuntime({
      MACP_AUTH_TOKENS_JSON: JSON.stringify({
        tokens: [
          { token: "alice", sender: ALICE },
          { token: "bob", sender: BOB },
          { token: "admin", sender: "agent://admin", can_manage_mode_registry: true },
          { token: "tasker", sender: "agent://tasker", allowed_modes: [ModeId.Task] },
          { token: "no-start", sender: "agent://no-start", can_start_sessions: false },
          { token: "capped", sender: "agent://capped", max_open_sessions: 1 },
          { token: "observer", sender: "agent://observer", is_observer: true },
        ],
      }),
    });
    alice = runtime.client("alice");
    bob = runtime.client("bob");
  });
  afterAll(() => runtime.close());

  describe("allowed_modes", () => {
    it.each([
      { what: "a SessionStart in an allowed mode", mode: ModeId.Task, expected: "ok" },
      { what: "a SessionStart in another mode", mode: ModeId.Decision, expected: "FORBIDDEN" },
    ])("$what → $expected", async ({ mode, expected }) => {
      const ack = await sendAck(
        runtime.client("tasker"),
        sessionStart({ mode, sessionId: newSessionId(), participants: ["agent://tasker", ALICE] }),
      );
      expect(ackCode(ack)).toBe(expected);
    });

    it("blocks ambient Signals for a mode-restricted identity but not for an unrestricted one", async () => {
      expect(ackCode(await sendAck(runtime.client("tasker"), signal()))).toBe("FORBIDDEN");
      expect(ackCode(await sendAck(alice, signal()))).toBe("ok");
    });

    it("blocks session messages in other modes even for a declared participant", async () => {
      const sessionId = await openDecisionSession(alice, [ALICE, "agent://tasker"]);
      expect(ackCode(await sendAck(runtime.client("tasker"), proposal(sessionId, "m1")))).toBe("FORBIDDEN");
    });
  });

  describe("can_start_sessions", () => {
    it("false refuses SessionStart but still lets a participant send in a session", async () => {
      const noStart = runtime.client("no-start");
      const refused = await sendAck(noStart, sessionStart({ sessionId: newSessionId(), participants: ["agent://no-start"] }));
      expect(ackCode(refused)).toBe("FORBIDDEN");
      const sessionId = await openDecisionSession(alice, [ALICE, "agent://no-start"]);
      expect(ackCode(await sendAck(noStart, proposal(sessionId, "m1")))).toBe("ok");
    });
  });

  describe("max_open_sessions", () => {
    it("refuses a start beyond the cap with RATE_LIMITED and frees the slot when a session ends", async () => {
      const capped = runtime.client("capped");
      // Sessions it merely participates in do not count: only those it initiated.
      await openDecisionSession(alice, [ALICE, "agent://capped"]);
      const first = newSessionId();
      const start = (sessionId: string) => sendAck(capped, sessionStart({ sessionId, participants: ["agent://capped"] }));
      expect(ackCode(await start(first))).toBe("ok");
      expect(ackCode(await start(newSessionId()))).toBe("RATE_LIMITED");
      expect((await capped.cancelSession({ sessionId: first, reason: "make room" })).ack?.ok).toBe(true);
      expect(ackCode(await start(newSessionId()))).toBe("ok");
    });
  });

  describe("can_manage_mode_registry", () => {
    const mutators: { rpc: string; call: (client: MacpClient) => Promise<unknown> }[] = [
      { rpc: "RegisterExtMode", call: (c) => c.registerExtMode({ modeDescriptor: EXT_MODE }) },
      { rpc: "PromoteMode", call: (c) => c.promoteMode({ mode: EXT_MODE.mode, promotedModeName: "" }) },
      { rpc: "UnregisterExtMode", call: (c) => c.unregisterExtMode({ mode: EXT_MODE.mode }) },
      { rpc: "RegisterPolicy", call: (c) => c.registerPolicy({ policyDescriptor: POLICY }) },
      { rpc: "UnregisterPolicy", call: (c) => c.unregisterPolicy({ policyId: POLICY.policyId }) },
    ];

    it.each(mutators)("$rpc without the flag → PERMISSION_DENIED Forbidden", async ({ call }) => {
      expect(await failureOf(call(alice))).toEqual({ status: "PERMISSION_DENIED", details: "Forbidden" });
    });

    it("with the flag, every mutator succeeds", async () => {
      const admin = runtime.client("admin");
      expect(await admin.registerExtMode({ modeDescriptor: EXT_MODE })).toEqual({ ok: true, error: "" });
      expect(await admin.registerPolicy({ policyDescriptor: POLICY })).toEqual({ ok: true, error: "" });
      expect(await admin.unregisterPolicy({ policyId: POLICY.policyId })).toEqual({ ok: true, error: "" });
      expect(await admin.promoteMode({ mode: EXT_MODE.mode, promotedModeName: "ext.auth-matrix.promoted" })).toEqual({
        ok: true,
        error: "",
        mode: "ext.auth-matrix.promoted",
      });
    });
  });

  describe("is_observer", () => {
    it.each([
      { who: "the initiator", token: "alice", expected: "OK" },
      { who: "a declared participant", token: "bob", expected: "OK" },
      { who: "an observer", token: "observer", expected: "OK" },
      { who: "anyone else", token: "admin", expected: "PERMISSION_DENIED" },
    ])("GetSession by $who → $expected", async ({ token, expected }) => {
      const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
      expect(await statusOf(runtime.client(token).getSession({ sessionId }))).toBe(expected);
    });

    it("GetSession by a stranger says why", async () => {
      const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
      expect(await failureOf(runtime.client("admin").getSession({ sessionId }))).toEqual({
        status: "PERMISSION_DENIED",
        details: "FORBIDDEN: session access denied",
      });
    });

    it.each([
      { who: "an observer", token: "observer", expected: ["m0", "m1"] },
      { who: "a stranger", token: "admin", expected: ["error:FORBIDDEN"] },
    ])("passive subscribe by $who → $expected", async ({ token, expected }) => {
      const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
      expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
      const stream = runtime.client(token).streamSession();
      const reader = new StreamReader(stream, `subscribe as ${token}`);
      stream.subscribe(sessionId);
      expect(frameIds(await reader.take(expected.length))).toEqual(expected);
      stream.end();
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    });

    it("grants nothing for writes: an observer can neither send in nor cancel a session", async () => {
      const observer = runtime.client("observer");
      const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
      expect(ackCode(await sendAck(observer, proposal(sessionId, "m1")))).toBe("FORBIDDEN");
      expect((await failureOf(observer.cancelSession({ sessionId, reason: "no" }))).status).toBe("PERMISSION_DENIED");
    });
  });

  describe("sender binding", () => {
    it.each([
      { what: "an empty sender is filled in", sender: "", expected: "ok" },
      { what: "the authenticated sender itself is accepted", sender: ALICE, expected: "ok" },
      { what: "a spoofed sender is refused", sender: BOB, expected: "UNAUTHENTICATED" },
    ])("$what", async ({ sender, expected }) => {
      const ack = await sendAck(alice, { ...sessionStart({ sessionId: newSessionId(), participants: [ALICE, BOB] }), sender });
      expect(ackCode(ack)).toBe(expected);
    });

    it("records the authenticated sender as the initiator", async () => {
      const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
      expect((await bob.getSession({ sessionId })).metadata?.initiator).toBe(ALICE);
    });
  });

  describe("static token credentials", () => {
    it.each([
      { what: "Authorization: Bearer <token>", auth: { bearer: "alice" }, expected: "ok" },
      { what: "x-macp-token", auth: { token: "alice" }, expected: "ok" },
      { what: "an unknown token", auth: { bearer: "mallory" }, expected: "UNAUTHENTICATED" },
      { what: "a JWT-shaped token with no JWT resolver", auth: { bearer: "a.b.c" }, expected: "UNAUTHENTICATED" },
      { what: "the dev sender header (never honoured with tokens configured)", auth: { agentId: ALICE }, expected: "UNAUTHENTICATED" },
    ] satisfies { what: string; auth: ClientAuth; expected: string }[])("$what → $expected", async ({ auth, expected }) => {
      const ack = await sendAck(runtime.client(auth), sessionStart({ sessionId: newSessionId(), participants: [ALICE] }));
      expect(ackCode(ack)).toBe(expected);
    });
  });

  describe("missing credentials", () => {
    const needAuth: { rpc: string; call: (client: MacpClient) => Promise<unknown> }[] = [
      { rpc: "GetSession", call: (c) => c.getSession({ sessionId: newSessionId() }) },
      { rpc: "CancelSession", call: (c) => c.cancelSession({ sessionId: newSessionId() }) },
      { rpc: "SuspendSession", call: (c) => c.suspendSession({ sessionId: newSessionId() }) },
      { rpc: "ResumeSession", call: (c) => c.resumeSession({ sessionId: newSessionId() }) },
      { rpc: "ListSessions", call: (c) => c.listSessions() },
      { rpc: "RegisterExtMode", call: (c) => c.registerExtMode({ modeDescriptor: EXT_MODE }) },
      { rpc: "UnregisterExtMode", call: (c) => c.unregisterExtMode({ mode: EXT_MODE.mode }) },
      { rpc: "PromoteMode", call: (c) => c.promoteMode({ mode: EXT_MODE.mode }) },
      { rpc: "RegisterPolicy", call: (c) => c.registerPolicy({ policyDescriptor: POLICY }) },
      { rpc: "UnregisterPolicy", call: (c) => c.unregisterPolicy({ policyId: POLICY.policyId }) },
      { rpc: "GetPolicy", call: (c) => c.getPolicy({ policyId: "policy.default" }) },
      { rpc: "ListPolicies", call: (c) => c.listPolicies() },
      { rpc: "WatchSessions", call: (c) => new StreamReader(c.watchSessions(), "anonymous WatchSessions").end() },
      {
        rpc: "StreamSession",
        call: (c) => {
          const stream = c.streamSession();
          stream.subscribe(newSessionId());
          return new StreamReader(stream, "anonymous StreamSession").end();
        },
      },
    ];

    it.each(needAuth)("$rpc → UNAUTHENTICATED status", async ({ call }) => {
      const anonymous = runtime.client({});
      const outcome = await call(anonymous).then(
        (value) => (value && typeof value === "object" && "status" in value ? value : { status: "OK", details: "" }),
        (error: unknown) => failureOf(Promise.reject(error)),
      );
      expect(outcome).toEqual({ status: "UNAUTHENTICATED", details: "Unauthenticated" });
    });

    it("Send → an Ack with UNAUTHENTICATED, not a status", async () => {
      const ack = await sendAck(runtime.client({}), sessionStart({ sessionId: newSessionId(), participants: [ALICE] }));
      expect(ack.ok).toBe(false);
      expect(ack.error).toMatchObject({ code: "UNAUTHENTICATED", message: "Unauthenticated" });
    });

    it("Send judges the envelope's shape before asking who sent it", async () => {
      const ack = await sendAck(runtime.client({}), { ...signal(), macpVersion: "0.9" });
      expect(ackCode(ack)).toBe("UNSUPPORTED_PROTOCOL_VERSION");
    });

    const open: { rpc: string; call: (client: MacpClient) => Promise<unknown> }[] = [
      { rpc: "Initialize", call: (c) => c.initialize() },
      { rpc: "GetManifest", call: (c) => c.getManifest() },
      { rpc: "ListModes", call: (c) => c.listModes() },
      { rpc: "ListExtModes", call: (c) => c.listExtModes() },
      { rpc: "ListRoots", call: (c) => c.listRoots() },
    ];

    it.each(open)("$rpc needs no credentials", async ({ call }) => {
      expect(await statusOf(call(runtime.client({})))).toBe("OK");
    });

    it.each([
      { rpc: "WatchModeRegistry", open: (c: MacpClient) => c.watchModeRegistry() },
      { rpc: "WatchPolicies", open: (c: MacpClient) => c.watchPolicies() },
      { rpc: "WatchRoots", open: (c: MacpClient) => c.watchRoots() },
    ])("$rpc needs no credentials", async ({ open: watch }) => {
      const stream = watch(runtime.client({}));
      await new StreamReader(stream as AsyncIterable<unknown>, "anonymous watch").next("the initial message");
      stream.cancel();
    });
  });
});

describe("JWT bearer tokens (HS256, inline JWKS)", () => {
  const ISSUER = "https://issuer.macp.test";
  const SECRET = new TextEncoder().encode("an-hs256-secret-of-32-bytes-len!");
  const OTHER_SECRET = new TextEncoder().encode("a-different-secret-of-32-bytes!!");
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime({
      MACP_AUTH_ISSUER: ISSUER,
      MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: [{ kty: "oct", k: base64url.encode(SECRET) }] }),
    });
  });
  afterAll(() => runtime.close());

  const nowS = (): number => Math.floor(Date.now() / 1000);
  const token = (claims: JWTPayload = {}, secret = SECRET): Promise<string> =>
    new SignJWT({ iss: ISSUER, aud: "macp-runtime", sub: ALICE, exp: nowS() + 300, ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .sign(secret);

  it.each([
    { what: "a valid token", claims: {}, expected: "ok" },
    { what: "an expired token (past the 60 s leeway)", claims: { exp: nowS() - 600 }, expected: "UNAUTHENTICATED" },
    { what: "a token for another audience", claims: { aud: "someone-else" }, expected: "UNAUTHENTICATED" },
    { what: "a token from another issuer", claims: { iss: "https://evil.test" }, expected: "UNAUTHENTICATED" },
    { what: "a token signed with another key", claims: {}, secret: OTHER_SECRET, expected: "UNAUTHENTICATED" },
  ])("Send with $what → $expected", async ({ claims, secret, expected }) => {
    const client = runtime.client(await token(claims, secret));
    const ack = await sendAck(client, sessionStart({ sessionId: newSessionId(), participants: [ALICE] }));
    expect(ackCode(ack)).toBe(expected);
  });

  it.each([
    { what: "a valid token", claims: {}, expected: "OK" },
    { what: "an expired token", claims: { exp: nowS() - 600 }, expected: "UNAUTHENTICATED" },
    { what: "a token for another audience", claims: { aud: "someone-else" }, expected: "UNAUTHENTICATED" },
    { what: "a token signed with another key", claims: {}, secret: OTHER_SECRET, expected: "UNAUTHENTICATED" },
  ])("ListSessions with $what → $expected", async ({ claims, secret, expected }) => {
    expect(await statusOf(runtime.client(await token(claims, secret)).listSessions())).toBe(expected);
  });

  it("an opaque (dot-less) bearer is refused when only JWT is configured", async () => {
    expect(await statusOf(runtime.client("opaque-token").listSessions())).toBe("UNAUTHENTICATED");
  });

  it("takes the sender from sub", async () => {
    const client = runtime.client(await token({ sub: "agent://from-jwt" }));
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(client, sessionStart({ sessionId, participants: ["agent://from-jwt"] })))).toBe("ok");
    expect((await client.getSession({ sessionId })).metadata?.initiator).toBe("agent://from-jwt");
  });

  it.each([
    { scopes: { allowed_modes: [] }, what: "allowed_modes [] forbids every Send", expected: "FORBIDDEN" },
    { scopes: { allowed_modes: [ModeId.Decision] }, what: "allowed_modes with the mode allows it", expected: "ok" },
    { scopes: { can_start_sessions: false }, what: "can_start_sessions false forbids a start", expected: "FORBIDDEN" },
  ])("macp_scopes: $what", async ({ scopes, expected }) => {
    const client = runtime.client(await token({ macp_scopes: scopes }));
    const ack = await sendAck(client, sessionStart({ sessionId: newSessionId(), participants: [ALICE] }));
    expect(ackCode(ack)).toBe(expected);
  });

  it("macp_scopes: is_observer reads any session, can_manage_mode_registry gates the registry", async () => {
    const owner = runtime.client(await token());
    const sessionId = await openDecisionSession(owner, [ALICE]);
    const observer = runtime.client(await token({ sub: "agent://auditor", macp_scopes: { is_observer: true } }));
    const stranger = runtime.client(await token({ sub: "agent://stranger" }));
    expect(await statusOf(observer.getSession({ sessionId }))).toBe("OK");
    expect(await statusOf(stranger.getSession({ sessionId }))).toBe("PERMISSION_DENIED");
    expect(await statusOf(stranger.registerPolicy({ policyDescriptor: POLICY }))).toBe("PERMISSION_DENIED");
    const manager = runtime.client(await token({ sub: "agent://ops", macp_scopes: { can_manage_mode_registry: true } }));
    expect(await manager.registerPolicy({ policyDescriptor: POLICY })).toEqual({ ok: true, error: "" });
  });
});

describe("dev mode", () => {
  describe.each([
    { flag: "1", headerAlone: "ok" },
    { flag: "0", headerAlone: "UNAUTHENTICATED" },
  ])("MACP_ALLOW_DEV_SENDER_HEADER=$flag", ({ flag, headerAlone }) => {
    let runtime: TestRuntime;
    beforeAll(async () => {
      runtime = await startTestRuntime({ MACP_ALLOW_DEV_SENDER_HEADER: flag });
    });
    afterAll(() => runtime.close());

    it(`x-macp-agent-id alone → ${headerAlone}`, async () => {
      const sessionId = newSessionId();
      const client = runtime.client({ agentId: ALICE });
      expect(ackCode(await sendAck(client, sessionStart({ sessionId, participants: [ALICE] })))).toBe(headerAlone);
      if (headerAlone === "ok") expect((await client.getSession({ sessionId })).metadata?.initiator).toBe(ALICE);
    });

    it("a bearer value names the sender and wins over the header", async () => {
      const client = runtime.client({ bearer: BOB, agentId: ALICE });
      const sessionId = newSessionId();
      expect(ackCode(await sendAck(client, sessionStart({ sessionId, participants: [BOB] })))).toBe("ok");
      expect((await client.getSession({ sessionId })).metadata?.initiator).toBe(BOB);
    });

    it("no credential at all → UNAUTHENTICATED (no anonymous identity)", async () => {
      const ack = await sendAck(runtime.client({}), sessionStart({ sessionId: newSessionId(), participants: [ALICE] }));
      expect(ackCode(ack)).toBe("UNAUTHENTICATED");
      expect(await statusOf(runtime.client({}).listSessions())).toBe("UNAUTHENTICATED");
    });

    it("any identity may manage the registries", async () => {
      const mode = ModeDescriptor.fromPartial({ ...EXT_MODE, mode: `ext.dev-${flag}.v1` });
      expect(await runtime.client(BOB).registerExtMode({ modeDescriptor: mode })).toEqual({ ok: true, error: "" });
    });
  });
});
