import type { MacpClient } from "@macp/client";
import { ManualClock } from "@macp/core";
import { ModeId, PolicyDescriptor, SessionState } from "@macp/protocol";
import type { Ack } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  failureOf,
  message,
  newSessionId,
  openDecisionSession,
  proposal,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime, commitment } from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const BOB = "agent://bob";
const CAROL = "agent://carol";
const STATE = SessionState;

let runtime: TestRuntime;
let alice: MacpClient;
let bob: MacpClient;
let carol: MacpClient;

beforeAll(async () => {
  runtime = await startTestRuntime();
  alice = runtime.client(ALICE);
  bob = runtime.client(BOB);
  carol = runtime.client(CAROL);
  for (const [policyId, rules] of [
    ["policy.any-participant", { commitment: { authority: "any_participant" } }],
    ["policy.designated", { commitment: { authority: "designated_role", designated_roles: [CAROL] } }],
  ] as const) {
    const descriptor = PolicyDescriptor.fromPartial({ policyId, mode: "*", rules: JSON.stringify(rules), schemaVersion: 1 });
    expect(await alice.registerPolicy({ policyDescriptor: descriptor })).toEqual({ ok: true, error: "" });
  }
});
afterAll(() => runtime.close());

type Verb = "cancel" | "suspend" | "resume";
const control = async (client: MacpClient, verb: Verb, sessionId: string): Promise<Ack | undefined> => {
  const request = { sessionId, reason: `${verb} for test` };
  const response =
    verb === "cancel" ? await client.cancelSession(request) : verb === "suspend" ? await client.suspendSession(request) : await client.resumeSession(request);
  return response.ack;
};
/** Ack summary: "ok <STATE>" or the error code. */
const summary = (ack: Ack | undefined): string =>
  ack === undefined ? "<no ack>" : ack.ok ? `ok ${STATE[ack.sessionState]}` : `${ack.error?.code} ${STATE[ack.sessionState]}`;

describe("CancelSession, SuspendSession, ResumeSession", () => {
  it.each(["cancel", "suspend", "resume"] as const)("%s of an unknown session is NOT_FOUND", async (verb) => {
    const sessionId = newSessionId();
    expect(await failureOf(control(alice, verb, sessionId))).toEqual({ status: "NOT_FOUND", details: `Session '${sessionId}' not found` });
  });

  it.each(["cancel", "suspend", "resume"] as const)("%s by a participant who is not the initiator is PERMISSION_DENIED", async (verb) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    if (verb === "resume") expect(summary(await control(alice, "suspend", sessionId))).toBe("ok SESSION_STATE_SUSPENDED");
    expect(await failureOf(control(bob, verb, sessionId))).toEqual({
      status: "PERMISSION_DENIED",
      details: `FORBIDDEN: only the session initiator or policy-delegated roles can ${verb}`,
    });
  });

  it("walks a session through suspend, resume and cancel with an Ack for each step", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const steps: { what: string; run: () => Promise<string>; expected: string }[] = [
      { what: "resume an open session", run: async () => summary(await control(alice, "resume", sessionId)), expected: "SESSION_NOT_OPEN SESSION_STATE_UNSPECIFIED" },
      { what: "suspend", run: async () => summary(await control(alice, "suspend", sessionId)), expected: "ok SESSION_STATE_SUSPENDED" },
      { what: "suspend again", run: async () => summary(await control(alice, "suspend", sessionId)), expected: "SESSION_NOT_OPEN SESSION_STATE_UNSPECIFIED" },
      { what: "send while suspended", run: async () => ackCode(await sendAck(alice, proposal(sessionId, "m1"))), expected: "SESSION_NOT_OPEN" },
      { what: "resume", run: async () => summary(await control(alice, "resume", sessionId)), expected: "ok SESSION_STATE_OPEN" },
      { what: "send after resume", run: async () => ackCode(await sendAck(alice, proposal(sessionId, "m1"))), expected: "ok" },
      { what: "suspend once more", run: async () => summary(await control(alice, "suspend", sessionId)), expected: "ok SESSION_STATE_SUSPENDED" },
      { what: "cancel from suspended", run: async () => summary(await control(alice, "cancel", sessionId)), expected: "ok SESSION_STATE_CANCELLED" },
      { what: "cancel again (idempotent)", run: async () => summary(await control(alice, "cancel", sessionId)), expected: "ok SESSION_STATE_CANCELLED" },
      { what: "suspend a cancelled session", run: async () => summary(await control(alice, "suspend", sessionId)), expected: "SESSION_NOT_OPEN SESSION_STATE_UNSPECIFIED" },
      { what: "send after cancel", run: async () => ackCode(await sendAck(alice, proposal(sessionId, "m2", "p2"))), expected: "SESSION_NOT_OPEN" },
      { what: "resend an accepted message id", run: async () => ackCode(await sendAck(alice, proposal(sessionId, "m1"))), expected: "duplicate" },
    ];
    const seen = [];
    for (const step of steps) seen.push(`${step.what}: ${await step.run()}`);
    expect(seen).toEqual(steps.map((step) => `${step.what}: ${step.expected}`));
    expect((await alice.getSession({ sessionId })).metadata?.state).toBe(STATE.SESSION_STATE_CANCELLED);
  });

  it("the control Ack echoes the session id and carries no message id", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const ack = await control(alice, "cancel", sessionId);
    expect(ack).toMatchObject({ ok: true, duplicate: false, messageId: "", sessionId, sessionState: STATE.SESSION_STATE_CANCELLED });
    expect(ack?.acceptedAtUnixMs).toBeGreaterThan(0);
  });

  it("cancelling a resolved session is an ok Ack that keeps it RESOLVED", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
    expect(ackCode(await sendAck(bob, message({ sessionId, messageType: "Vote", messageId: "m2", json: { proposal_id: "p1", vote: "APPROVE" } })))).toBe("ok");
    const commit = commitment(sessionId, "m3");
    expect(ackCode(await sendAck(alice, commit))).toBe("ok");
    expect(summary(await control(alice, "cancel", sessionId))).toBe("ok SESSION_STATE_RESOLVED");
  });

  it.each([
    { policy: "policy.any-participant", caller: "bob (a participant)", client: () => bob, allowed: true },
    { policy: "policy.any-participant", caller: "carol (a stranger)", client: () => carol, allowed: false },
    { policy: "policy.designated", caller: "carol (designated)", client: () => carol, allowed: true },
    { policy: "policy.designated", caller: "bob (not designated)", client: () => bob, allowed: false },
  ])("under $policy, $caller may cancel: $allowed", async ({ policy, client, allowed }) => {
    const sessionId = newSessionId();
    const start = sessionStart({ sessionId, participants: [ALICE, BOB], payload: { policyVersion: policy } });
    expect(ackCode(await sendAck(alice, start))).toBe("ok");
    if (allowed) expect(summary(await control(client(), "cancel", sessionId))).toBe("ok SESSION_STATE_CANCELLED");
    else expect((await failureOf(control(client(), "cancel", sessionId))).status).toBe("PERMISSION_DENIED");
  });

  it("a session already past its deadline is expired by the control call that finds it", async () => {
    const sessionId = newSessionId();
    const stale = sessionStart({ sessionId, participants: [ALICE], timestampUnixMs: Date.now() - 60_000, payload: { ttlMs: 1000 } });
    expect(ackCode(await sendAck(alice, stale))).toBe("ok");
    expect(summary(await control(alice, "suspend", sessionId))).toBe("SESSION_NOT_OPEN SESSION_STATE_UNSPECIFIED");
    expect((await alice.getSession({ sessionId })).metadata?.state).toBe(STATE.SESSION_STATE_EXPIRED);
    expect(summary(await control(alice, "cancel", sessionId))).toBe("ok SESSION_STATE_EXPIRED");
  });
});

describe("GetSession and ListSessions", () => {
  it("returns the session's metadata with per-sender activity", async () => {
    const sessionId = newSessionId();
    const start = sessionStart({
      sessionId,
      participants: [BOB, ALICE],
      timestampUnixMs: Date.now(),
      payload: { contextId: "ctx-1", extensions: { "x-trace": new Uint8Array([1]) }, ttlMs: 120_000 },
    });
    expect(ackCode(await sendAck(alice, start))).toBe("ok");
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1", "p1")))).toBe("ok");
    expect(ackCode(await sendAck(bob, proposal(sessionId, "m2", "p2")))).toBe("ok");
    expect(ackCode(await sendAck(bob, proposal(sessionId, "m3", "p3")))).toBe("ok");
    const { metadata } = await bob.getSession({ sessionId });
    expect(metadata).toMatchObject({
      sessionId,
      mode: ModeId.Decision,
      state: STATE.SESSION_STATE_OPEN,
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      policyVersion: "policy.default",
      participants: [BOB, ALICE],
      initiator: ALICE,
      contextId: "ctx-1",
      extensionKeys: ["x-trace"],
    });
    expect(metadata?.expiresAtUnixMs).toBe(start.timestampUnixMs + 120_000n);
    expect(metadata?.startedAtUnixMs).toBeGreaterThan(0);
    const activity = Object.fromEntries((metadata?.participantActivity ?? []).map((a) => [a.participantId, a.messageCount]));
    expect(activity).toEqual({ [ALICE]: 1, [BOB]: 2 });
  });

  it.each([
    { who: "an initiator who is not a participant", client: () => alice, participants: [BOB], expected: "OK" },
    { who: "a participant", client: () => bob, participants: [BOB], expected: "OK" },
    { who: "a stranger", client: () => carol, participants: [BOB], expected: "PERMISSION_DENIED" },
  ])("GetSession by $who → $expected", async ({ client, participants, expected }) => {
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(alice, sessionStart({ sessionId, participants })))).toBe("ok");
    const outcome = await client()
      .getSession({ sessionId })
      .then(
        () => "OK",
        async (error: unknown) => (await failureOf(Promise.reject(error))).status,
      );
    expect(outcome).toBe(expected);
  });

  it("GetSession of an unknown session is NOT_FOUND", async () => {
    const sessionId = newSessionId();
    expect(await failureOf(alice.getSession({ sessionId }))).toEqual({ status: "NOT_FOUND", details: `Session '${sessionId}' not found` });
  });

  it("ListSessions lists every session regardless of the caller", async () => {
    const mine = await openDecisionSession(alice, [ALICE]);
    const cancelled = await openDecisionSession(alice, [ALICE]);
    expect(summary(await control(alice, "cancel", cancelled))).toBe("ok SESSION_STATE_CANCELLED");
    const { sessions } = await carol.listSessions();
    const states = Object.fromEntries(sessions.map((s) => [s.sessionId, STATE[s.state]]));
    expect(states[mine]).toBe("SESSION_STATE_OPEN");
    expect(states[cancelled]).toBe("SESSION_STATE_CANCELLED");
  });
});

describe("Send Acks", () => {
  it("an accepted envelope's Ack echoes its ids and reports the resulting state", async () => {
    const sessionId = newSessionId();
    const ack = await sendAck(alice, sessionStart({ sessionId, participants: [ALICE], messageId: "start-1" }));
    expect(ack).toMatchObject({ ok: true, duplicate: false, messageId: "start-1", sessionId, sessionState: STATE.SESSION_STATE_OPEN });
    expect(ack.error).toBeUndefined();
  });

  it("a retried SessionStart is a duplicate; a new id for the same session is SESSION_ALREADY_EXISTS", async () => {
    const sessionId = newSessionId();
    const start = sessionStart({ sessionId, participants: [ALICE] });
    expect(ackCode(await sendAck(alice, start))).toBe("ok");
    expect(ackCode(await sendAck(alice, start))).toBe("duplicate");
    expect(ackCode(await sendAck(alice, { ...start, messageId: "other" }))).toBe("SESSION_ALREADY_EXISTS");
  });

  it("a rejected envelope does not use up its message id", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE]);
    expect(ackCode(await sendAck(alice, message({ sessionId, messageType: "Vote", messageId: "m1", json: { proposal_id: "p1", vote: "APPROVE" } })))).toBe(
      "INVALID_ENVELOPE",
    );
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
  });

  it("concurrent copies of one envelope: exactly one is accepted, the rest are duplicates", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const acks = await Promise.all(Array.from({ length: 10 }, () => sendAck(alice, proposal(sessionId, "same"))));
    expect(acks.map(ackCode).sort()).toEqual([...Array<string>(9).fill("duplicate"), "ok"].sort());
  });

  it("a policy denial's Ack carries POLICY_DENIED with the reasons as JSON details, on Send and inline on a stream", async () => {
    const descriptor = PolicyDescriptor.fromPartial({
      policyId: "policy.majority",
      mode: ModeId.Decision,
      rules: JSON.stringify({ voting: { algorithm: "majority" }, commitment: { authority: "initiator_only" } }),
      schemaVersion: 1,
    });
    expect((await alice.registerPolicy({ policyDescriptor: descriptor })).ok).toBe(true);
    const sessionId = newSessionId();
    const start = sessionStart({ sessionId, participants: [ALICE, BOB], payload: { policyVersion: "policy.majority" } });
    expect(ackCode(await sendAck(alice, start))).toBe("ok");
    expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
    // A decline before any vote is "NoVotes", which a majority policy always denies.
    const decline = (messageId: string) =>
      message({
        sessionId,
        messageType: "Commitment",
        messageId,
        json: {
          commitment_id: messageId,
          action: "decision.rejected",
          authority_scope: "t",
          reason: "r",
          mode_version: "1.0.0",
          configuration_version: "cfg-1",
          policy_version: "policy.majority",
          outcome_positive: false,
        },
      });
    const ack = await sendAck(alice, decline("c1"));
    expect(ack.error).toMatchObject({ code: "POLICY_DENIED", message: "PolicyDenied" });
    const details = JSON.parse(Buffer.from(ack.error?.details ?? new Uint8Array()).toString("utf8")) as { reasons: string[] };
    expect(details.reasons.length).toBeGreaterThan(0);

    const stream = alice.streamSession();
    const reader = new StreamReader(stream, "stream with a denied commitment");
    stream.send(decline("c2"));
    const frame = await reader.next("the inline POLICY_DENIED");
    expect(frame.response?.$case).toBe("error");
    if (frame.response?.$case === "error") {
      expect(frame.response.value.code).toBe("POLICY_DENIED");
      expect(frame.response.value.message).toContain("PolicyDenied");
      expect(JSON.parse(Buffer.from(frame.response.value.details).toString("utf8"))).toEqual(details);
    }
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("a refusal's Ack carries the code, the variant name and the request's ids", async () => {
    const sessionId = newSessionId();
    const ack = await sendAck(alice, proposal(sessionId, "lost"));
    expect(ack).toMatchObject({
      ok: false,
      duplicate: false,
      messageId: "lost",
      sessionId,
      sessionState: STATE.SESSION_STATE_UNSPECIFIED,
      error: { code: "SESSION_NOT_FOUND", message: "UnknownSession", sessionId, messageId: "lost" },
    });
    expect(ack.acceptedAtUnixMs).toBeGreaterThan(0);
  });
});

describe("time: TTL and the suspension cap (manual clock)", () => {
  const T0 = 1_800_000_000_000;
  const SEVEN_DAYS = 604_800_000;
  let clock: ManualClock;
  let timed: TestRuntime;
  let owner: MacpClient;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    timed = await startTestRuntime({}, clock);
    owner = timed.client(ALICE);
  });
  afterAll(() => timed.close());

  /** A session whose deadline is the start time plus `ttlMs` (timestamp 0: the runtime's clock). */
  async function start(ttlMs: number): Promise<string> {
    const sessionId = newSessionId();
    const ack = await sendAck(owner, sessionStart({ sessionId, participants: [ALICE], timestampUnixMs: 0, payload: { ttlMs } }));
    expect(ackCode(ack)).toBe("ok");
    return sessionId;
  }

  it("a deadline is inclusive; the first message after it is refused as TtlExpired, later ones as SessionNotOpen", async () => {
    const sessionId = await start(1000);
    clock.advance(1000);
    expect(ackCode(await sendAck(owner, proposal(sessionId, "m1", "p1")))).toBe("ok");
    clock.advance(1);
    const expiring = await sendAck(owner, proposal(sessionId, "m2", "p2"));
    expect(expiring.error).toMatchObject({ code: "SESSION_NOT_OPEN", message: "TtlExpired" });
    const later = await sendAck(owner, proposal(sessionId, "m3", "p3"));
    expect(later.error).toMatchObject({ code: "SESSION_NOT_OPEN", message: "SessionNotOpen" });
    expect((await owner.getSession({ sessionId })).metadata?.state).toBe(STATE.SESSION_STATE_EXPIRED);
  });

  it("suspension stops the TTL: the deadline moves by the time spent suspended", async () => {
    const sessionId = await start(1000);
    const before = (await owner.getSession({ sessionId })).metadata?.expiresAtUnixMs ?? 0n;
    expect(summary(await control(owner, "suspend", sessionId))).toBe("ok SESSION_STATE_SUSPENDED");
    clock.advance(5000);
    expect(summary(await control(owner, "resume", sessionId))).toBe("ok SESSION_STATE_OPEN");
    expect((await owner.getSession({ sessionId })).metadata?.expiresAtUnixMs).toBe(before + 5000n);
    expect(ackCode(await sendAck(owner, proposal(sessionId, "m1")))).toBe("ok");
  });

  it("resuming after more than seven days suspended expires the session", async () => {
    const sessionId = await start(60_000);
    expect(summary(await control(owner, "suspend", sessionId))).toBe("ok SESSION_STATE_SUSPENDED");
    clock.advance(SEVEN_DAYS + 1);
    // The lookup before the resume already finds the cap exceeded (protocol.md §2.3 lists Resume's
    // pre-lookup as a lazy expiry point), so the variant is SessionNotOpen rather than §2.8's TtlExpired.
    const ack = await control(owner, "resume", sessionId);
    expect(ack?.error?.code).toBe("SESSION_NOT_OPEN");
    expect((await owner.getSession({ sessionId })).metadata?.state).toBe(STATE.SESSION_STATE_EXPIRED);
  });

  it("the sweep expires open sessions past their deadline without anyone touching them", async () => {
    const sessionId = await start(1000);
    clock.advance(1001);
    expect(await timed.handle.kernel.sweep()).toBeGreaterThanOrEqual(1);
    const { sessions } = await owner.listSessions();
    expect(sessions.find((s) => s.sessionId === sessionId)?.state).toBe(STATE.SESSION_STATE_EXPIRED);
  });
});
