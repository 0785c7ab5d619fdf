import { buildEnvelope, buildSignal } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { SignalPayload } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
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

const signal = (messageId: string): Envelope => buildSignal({ messageId, payload: { signalType: "tick" } });

describe("rate limits (per sender, per minute)", () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime({
      MACP_SESSION_START_LIMIT_PER_MINUTE: "2",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "3",
    });
  });
  afterAll(() => runtime.close());

  it("refuses the session start beyond the limit with RATE_LIMITED; other senders keep their own budget", async () => {
    const starter = runtime.client("agent://starter");
    const start = (client: MacpClient) => sendAck(client, sessionStart({ sessionId: newSessionId(), participants: ["agent://x"] }));
    const codes = [await start(starter), await start(starter), await start(starter)].map(ackCode);
    expect(codes).toEqual(["ok", "ok", "RATE_LIMITED"]);
    expect(ackCode(await start(runtime.client("agent://other-starter")))).toBe("ok");
  });

  it("session starts and other messages are separate budgets", async () => {
    const mixed = runtime.client("agent://mixed");
    const sessionId = await openDecisionSession(mixed, ["agent://mixed"]);
    await openDecisionSession(mixed, ["agent://mixed"]);
    // The start budget is spent, the message budget is untouched.
    const codes = [];
    for (const envelope of [proposal(sessionId, "m1", "p1"), signal("s1"), signal("s2"), signal("s3")]) {
      codes.push(ackCode(await sendAck(mixed, envelope)));
    }
    expect(codes).toEqual(["ok", "ok", "ok", "RATE_LIMITED"]);
  });

  it("envelopes the kernel rejects still spend the budget; refused shapes and forbidden modes do not reach it", async () => {
    const sender = runtime.client("agent://spender");
    const script: { what: string; envelope: Envelope; code: string }[] = [
      { what: "bad shape (judged before the limiter)", envelope: { ...signal("a"), macpVersion: "9" }, code: "UNSUPPORTED_PROTOCOL_VERSION" },
      { what: "unknown session (kernel)", envelope: proposal(newSessionId(), "b"), code: "SESSION_NOT_FOUND" },
      { what: "unknown session again (kernel)", envelope: proposal(newSessionId(), "c"), code: "SESSION_NOT_FOUND" },
      { what: "a valid signal", envelope: signal("d"), code: "ok" },
      { what: "over the limit", envelope: signal("e"), code: "RATE_LIMITED" },
    ];
    const codes = [];
    for (const step of script) codes.push(`${step.what}: ${ackCode(await sendAck(sender, step.envelope))}`);
    expect(codes).toEqual(script.map((step) => `${step.what}: ${step.code}`));
  });

  it("does not limit control and read RPCs", async () => {
    const owner = runtime.client("agent://reader");
    const sessionId = await openDecisionSession(owner, ["agent://reader"]);
    for (let i = 0; i < 5; i++) expect(await statusOf(owner.getSession({ sessionId }))).toBe("OK");
    expect((await owner.suspendSession({ sessionId })).ack?.ok).toBe(true);
    expect((await owner.resumeSession({ sessionId })).ack?.ok).toBe(true);
    expect((await owner.cancelSession({ sessionId })).ack?.ok).toBe(true);
  });

  it("a StreamSession envelope frame over the limit ends the stream with RESOURCE_EXHAUSTED; subscribe frames are free", async () => {
    const client = runtime.client("agent://streamer");
    const sessionId = await openDecisionSession(client, ["agent://streamer"]);
    const stream = client.streamSession();
    const reader = new StreamReader(stream, "rate-limited stream");
    for (let i = 0; i < 5; i++) stream.subscribe(sessionId);
    expect(frameIds(await reader.take(5, "five replays of the SessionStart"))).toEqual(["m0", "m0", "m0", "m0", "m0"]);
    for (let i = 1; i <= 4; i++) stream.send(proposal(sessionId, `m${i}`, `p${i}`));
    expect(frameIds(await reader.take(3, "the three envelopes within the limit"))).toEqual(["m1", "m2", "m3"]);
    const end = await reader.end("the terminal RESOURCE_EXHAUSTED");
    expect(end.status).toBe("RESOURCE_EXHAUSTED");
  });
});

describe("payload size limit", () => {
  const LIMIT = 64;
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime({ MACP_MAX_PAYLOAD_BYTES: String(LIMIT) });
  });
  afterAll(() => runtime.close());

  /** A valid Signal whose encoded payload is exactly `size` bytes. */
  function signalOfSize(size: number, messageId: string): Envelope {
    for (let filler = 0; filler <= size; filler++) {
      const payload = SignalPayload.encode(SignalPayload.fromPartial({ signalType: "x", data: new Uint8Array(filler) })).finish();
      if (payload.length === size) return buildEnvelope({ mode: "", sessionId: "", messageType: "Signal", messageId, payload });
    }
    throw new Error(`no Signal payload of exactly ${size} bytes`);
  }

  it.each([
    { size: LIMIT - 1, expected: "ok" },
    { size: LIMIT, expected: "ok" },
    { size: LIMIT + 1, expected: "PAYLOAD_TOO_LARGE" },
    { size: LIMIT * 100, expected: "PAYLOAD_TOO_LARGE" },
  ])("a $size-byte payload → $expected", async ({ size, expected }) => {
    expect(ackCode(await sendAck(runtime.client("agent://a"), signalOfSize(size, `s${size}`)))).toBe(expected);
  });

  it("is judged before authentication", async () => {
    expect(ackCode(await sendAck(runtime.client({}), signalOfSize(LIMIT + 1, "anon")))).toBe("PAYLOAD_TOO_LARGE");
  });

  it("an oversized envelope frame ends a StreamSession with RESOURCE_EXHAUSTED", async () => {
    const client = runtime.client("agent://a");
    const sessionId = await openDecisionSession(client, ["agent://a"]);
    const stream = client.streamSession();
    const reader = new StreamReader(stream, "stream with an oversized frame");
    stream.subscribe(sessionId);
    expect(frameIds(await reader.take(1))).toEqual(["m0"]);
    stream.send({ ...proposal(sessionId, "m1"), payload: new Uint8Array(LIMIT + 1) });
    expect((await reader.end("the terminal RESOURCE_EXHAUSTED")).status).toBe("RESOURCE_EXHAUSTED");
  });
});
