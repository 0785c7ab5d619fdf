import { SessionStartPayload, SignalPayload } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { buildEnvelope, buildSessionStart, buildSignal, systemEnvelopeContext } from "../src/index.js";

const fields = { mode: "macp.mode.decision.v1", messageType: "Proposal", sessionId: "s", payload: new Uint8Array([1, 2]) };

describe("buildEnvelope", () => {
  it("uses the given id and leaves sender and timestamp to the runtime", () => {
    expect(buildEnvelope({ ...fields, messageId: "m-1" })).toEqual({
      macpVersion: "1.0",
      mode: "macp.mode.decision.v1",
      messageType: "Proposal",
      messageId: "m-1",
      sessionId: "s",
      sender: "",
      timestampUnixMs: 0n,
      payload: new Uint8Array([1, 2]),
    });
  });

  it("takes the id and time from the context when not given", () => {
    const envelope = buildEnvelope(fields, { newId: () => "generated", now: () => 42 });
    expect([envelope.messageId, envelope.timestampUnixMs]).toEqual(["generated", 42n]);
  });

  it("prefers explicit values over the context", () => {
    const envelope = buildEnvelope({ ...fields, messageId: "m", timestampUnixMs: 7 }, { newId: () => "x", now: () => 42 });
    expect([envelope.messageId, envelope.timestampUnixMs]).toEqual(["m", 7n]);
  });

  it.each([
    ["i64::MAX as a bigint", 2n ** 63n - 1n],
    ["i64::MIN as a bigint", -(2n ** 63n)],
    ["a safe number", -1],
  ])("takes any int64 timestamp exactly: %s", (_, timestampUnixMs) => {
    const envelope = buildEnvelope({ ...fields, messageId: "m", timestampUnixMs });
    expect(envelope.timestampUnixMs).toBe(BigInt(timestampUnixMs));
  });

  it.each([undefined, ""])("refuses to build without a message id (%o)", (messageId) => {
    expect(() => buildEnvelope({ ...fields, messageId })).toThrow("needs a messageId");
  });

  it("generates UUIDv4 ids and wall-clock time with the system context", () => {
    const envelope = buildEnvelope(fields, systemEnvelopeContext);
    expect(envelope.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(envelope.timestampUnixMs).toBeGreaterThan(0n);
  });
});

describe("buildSessionStart", () => {
  it("encodes a SessionStartPayload, defaulting the fields left out", () => {
    const envelope = buildSessionStart({
      mode: "macp.mode.decision.v1",
      sessionId: "0190b7a0-8f1e-7c3a-9d2b-3f4e5a6b7c8d",
      messageId: "start",
      payload: { intent: "pick a vendor", participants: ["alice", "bob"], ttlMs: 60_000 },
    });
    expect(envelope).toMatchObject({ messageType: "SessionStart", mode: "macp.mode.decision.v1", messageId: "start" });
    expect(SessionStartPayload.decode(envelope.payload)).toMatchObject({
      intent: "pick a vendor",
      participants: ["alice", "bob"],
      ttlMs: 60_000n,
      modeVersion: "",
      policyVersion: "",
      roots: [],
    });
  });
});

describe("buildSignal", () => {
  it("builds an ambient Signal: no session, no mode", () => {
    const envelope = buildSignal({ messageId: "sig", payload: { signalType: "heartbeat", confidence: 0.5 } });
    expect(envelope).toMatchObject({ messageType: "Signal", mode: "", sessionId: "" });
    expect(SignalPayload.decode(envelope.payload)).toMatchObject({ signalType: "heartbeat", confidence: 0.5, correlationSessionId: "" });
  });
});
