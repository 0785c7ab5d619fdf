import { Metadata, status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { buildEnvelope, buildSignal } from "@macp/client";
import type { MacpClient, SessionStream } from "@macp/client";
import { ModeId, PROTOCOL_VERSION } from "@macp/protocol";
import type { Envelope, StreamSessionRequest, StreamSessionResponse } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  frameIds,
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
const OUTSIDER = "agent://outsider";
const OBSERVER = "observer-token";

let runtime: TestRuntime;
let alice: MacpClient;
let bob: MacpClient;
let outsider: MacpClient;

beforeAll(async () => {
  // Static tokens, so one identity can be an observer; the others are ordinary agents.
  runtime = await startTestRuntime({
    MACP_AUTH_TOKENS_JSON: JSON.stringify([
      { token: "alice", sender: ALICE },
      { token: "bob", sender: BOB },
      { token: "carol", sender: CAROL },
      { token: "outsider", sender: OUTSIDER },
      { token: OBSERVER, sender: "agent://auditor", is_observer: true },
    ]),
  });
  alice = runtime.client("alice");
  bob = runtime.client("bob");
  outsider = runtime.client("outsider");
});
afterAll(() => runtime.close());

function open(client: MacpClient, label: string): { stream: SessionStream; reader: StreamReader<StreamSessionResponse> } {
  const stream = client.streamSession();
  return { stream, reader: new StreamReader(stream, label) };
}

async function acceptAll(client: MacpClient, envelopes: readonly Envelope[]): Promise<void> {
  for (const envelope of envelopes) {
    expect(ackCode(await sendAck(client, envelope)), envelope.messageId).toBe("ok");
  }
}

function inlineError(frame: StreamSessionResponse): { code: string; message: string; sessionId: string } {
  if (frame.response?.$case !== "error") throw new Error(`expected an inline error frame, got ${frame.response?.$case}`);
  return { code: frame.response.value.code, message: frame.response.value.message, sessionId: frame.response.value.sessionId };
}

describe("live subscribers", () => {
  it("two subscribers both receive every accepted envelope, in acceptance order, and no rejected one", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const first = open(alice, "alice's stream");
    const second = open(bob, "bob's stream");
    first.stream.subscribe(sessionId);
    second.stream.subscribe(sessionId);
    for (const { reader } of [first, second]) {
      expect(frameIds([await reader.next("the SessionStart from history")])).toEqual(["m0"]);
    }

    const script: { client: MacpClient; envelope: Envelope; accepted: boolean }[] = [
      { client: alice, envelope: proposal(sessionId, "m1", "p1"), accepted: true },
      { client: outsider, envelope: proposal(sessionId, "m2", "p2"), accepted: false },
      { client: bob, envelope: proposal(sessionId, "m3", "p3"), accepted: true },
      { client: bob, envelope: proposal(sessionId, "m3", "p3"), accepted: true },
      { client: alice, envelope: proposal(sessionId, "m4", "p1"), accepted: false },
      { client: alice, envelope: proposal(sessionId, "m5", "p5"), accepted: true },
    ];
    for (const step of script) {
      const ack = await sendAck(step.client, step.envelope);
      expect(ack.ok, step.envelope.messageId).toBe(step.accepted);
    }
    // m3 went twice: the retry is a duplicate and must not be echoed again.
    for (const { stream, reader } of [first, second]) {
      expect(frameIds(await reader.take(3, "the accepted proposals"))).toEqual(["m1", "m3", "m5"]);
      stream.end();
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    }
  });

  it("under concurrent senders, every subscriber sees the same order", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const subscribers = [open(alice, "first subscriber"), open(bob, "second subscriber"), open(runtime.client(OBSERVER), "observer")];
    for (const { stream } of subscribers) stream.subscribe(sessionId);
    for (const { reader } of subscribers) expect(frameIds([await reader.next()])).toEqual(["m0"]);
    // A third over a stream that subscribed first (so it sees everything), the rest over unary Send.
    const aliceStream = open(alice, "alice sending");
    aliceStream.stream.subscribe(sessionId, 1);
    const sent = Array.from({ length: 30 }, (_, i) => proposal(sessionId, `c${i}`, `p${i}`));
    await Promise.all(
      sent.map(async (envelope, i) => {
        if (i % 3 === 0) aliceStream.stream.send(envelope);
        else expect(ackCode(await sendAck(i % 3 === 1 ? alice : bob, envelope))).toBe("ok");
      }),
    );
    const orders = [];
    for (const { stream, reader } of subscribers) {
      orders.push(frameIds(await reader.take(sent.length, "every concurrent envelope")));
      stream.end();
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    }
    expect(new Set(orders[0]).size).toBe(sent.length);
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(frameIds(await aliceStream.reader.take(sent.length, "the sender's stream sees the same order"))).toEqual(orders[0]);
    aliceStream.stream.end();
    expect(await aliceStream.reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("echoes the sender's own envelope frames with the authenticated sender filled in", async () => {
    const sessionId = newSessionId();
    const { stream, reader } = open(alice, "alice's stream");
    const start = sessionStart({ sessionId, participants: [ALICE, BOB], timestampUnixMs: 1_700_000_000_000 });
    stream.send(start);
    const echoed = await reader.next("the SessionStart echo");
    expect(echoed.response).toEqual({
      $case: "envelope",
      value: { ...start, sender: ALICE, macpVersion: PROTOCOL_VERSION, payload: expect.anything() as unknown },
    });
    if (echoed.response?.$case === "envelope") {
      expect(Buffer.from(echoed.response.value.payload).equals(Buffer.from(start.payload))).toBe(true);
    }
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });
});

describe("passive subscribe with after_sequence", () => {
  it("a late subscriber receives exactly the missing envelopes, then the live ones, with no gap or duplicate at the seam", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    await acceptAll(alice, [proposal(sessionId, "m1", "p1"), proposal(sessionId, "m2", "p2")]);

    const late = open(bob, "late subscriber");
    // Sequence 1 is the SessionStart, so after_sequence 1 skips it and nothing else.
    late.stream.subscribe(sessionId, 1);
    // Live envelopes race the history read on purpose: the seam must still be exact.
    const live = Array.from({ length: 20 }, (_, i) => proposal(sessionId, `m${i + 3}`, `p${i + 3}`));
    const acks = await Promise.all(live.map((envelope, i) => sendAck(i % 2 === 0 ? alice : bob, envelope)));
    expect(acks.map(ackCode)).toEqual(live.map(() => "ok"));

    const received = frameIds(await late.reader.take(22, "history then live envelopes"));
    expect(received.slice(0, 2)).toEqual(["m1", "m2"]);
    expect([...received].sort()).toEqual(["m1", "m2", ...live.map((e) => e.messageId)].sort());
    expect(new Set(received).size).toBe(received.length);
    late.stream.end();
    expect(await late.reader.end("the end after the last live envelope")).toEqual({ status: "OK", details: "" });
  });

  it.each([
    { afterSequence: 0, expected: ["m0", "m1", "m2"] },
    { afterSequence: 1, expected: ["m1", "m2"] },
    { afterSequence: 2, expected: ["m2"] },
    { afterSequence: 3, expected: [] },
    { afterSequence: 99, expected: [] },
  ])("after_sequence $afterSequence replays $expected of a three-envelope history", async ({ afterSequence, expected }) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    await acceptAll(alice, [proposal(sessionId, "m1", "p1"), proposal(sessionId, "m2", "p2")]);
    const { stream, reader } = open(bob, "replaying subscriber");
    stream.subscribe(sessionId, afterSequence);
    // A marker envelope sent after the subscription proves the replay is complete and live follows.
    await acceptAll(alice, [proposal(sessionId, "live", "p-live")]);
    expect(frameIds(await reader.take(expected.length + 1))).toEqual([...expected, "live"]);
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("after_sequence counts accepted envelopes only: suspend and resume do not shift it", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
    expect((await alice.suspendSession({ sessionId, reason: "pause" })).ack?.ok).toBe(true);
    expect((await alice.resumeSession({ sessionId, reason: "go" })).ack?.ok).toBe(true);
    await acceptAll(alice, [proposal(sessionId, "m2", "p2"), proposal(sessionId, "m3", "p3")]);
    // A client that has seen three envelopes (m0..m2) resumes after them.
    const { stream, reader } = open(bob, "resuming subscriber");
    stream.subscribe(sessionId, 3);
    stream.end();
    expect(frameIds(await reader.take(1))).toEqual(["m3"]);
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("a finished session's full history streams to a passive subscriber, even right before half-close", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const commit = commitment(sessionId, "m3");
    await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
    await acceptAll(bob, [message({ sessionId, messageType: "Vote", messageId: "m2", json: { proposal_id: "p1", vote: "APPROVE" } })]);
    const resolved = await sendAck(alice, commit);
    expect(ackCode(resolved)).toBe("ok");

    for (const [who, client] of [
      ["a participant", bob],
      ["an observer", runtime.client(OBSERVER)],
    ] as const) {
      const { stream, reader } = open(client, `${who} subscribing to a resolved session`);
      stream.subscribe(sessionId);
      stream.end();
      expect(frameIds(await reader.take(4, "the full history"))).toEqual(["m0", "m1", "m2", "m3"]);
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    }
  });

  it("a finished session evicted from memory still streams its full history, even if evicted again mid-stream", async () => {
    const evicting = await startTestRuntime({ MACP_SESSION_RETENTION_SECS: "0", MACP_MESSAGE_LIMIT_PER_MINUTE: "1000" });
    try {
      const owner = evicting.client("agent://owner");
      const sessionId = await openDecisionSession(owner, ["agent://owner"]);
      const history = Array.from({ length: 200 }, (_, i) => proposal(sessionId, `m${i + 1}`, `p${i + 1}`));
      for (const envelope of history) expect(ackCode(await sendAck(owner, envelope))).toBe("ok");
      expect((await owner.cancelSession({ sessionId })).ack?.ok).toBe(true);
      await evicting.handle.kernel.sweep();
      expect(evicting.handle.kernel.peekSession(sessionId), "evicted by the sweep").toBeUndefined();

      const { stream, reader } = open(owner, "subscriber of an evicted session");
      stream.subscribe(sessionId);
      expect(frameIds([await reader.next("the first replayed envelope")])).toEqual(["m0"]);
      await evicting.handle.kernel.sweep();
      stream.end();
      expect(frameIds(await reader.take(200, "the rest of the history"))).toEqual(history.map((e) => e.messageId));
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    } finally {
      await evicting.close();
    }
  });

  it("a cancelled session's history holds only accepted envelopes, never runtime annotations", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
    expect((await alice.suspendSession({ sessionId, reason: "pause" })).ack?.ok).toBe(true);
    expect((await alice.resumeSession({ sessionId, reason: "go" })).ack?.ok).toBe(true);
    await acceptAll(alice, [proposal(sessionId, "m2", "p2")]);
    expect((await alice.cancelSession({ sessionId, reason: "stop" })).ack?.ok).toBe(true);
    const { stream, reader } = open(bob, "subscriber of a cancelled session");
    stream.subscribe(sessionId);
    stream.end();
    expect(frameIds(await reader.take(3))).toEqual(["m0", "m1", "m2"]);
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });
});

describe("half-close", () => {
  it("flushes a long history to a subscriber that half-closes right after subscribing, then ends with OK", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    // Enough envelopes that the server must wait for the client to drain its send buffer.
    const history = Array.from({ length: 200 }, (_, i) => proposal(sessionId, `m${i + 1}`, `p${i + 1}`));
    for (const [i, envelope] of history.entries()) {
      expect(ackCode(await sendAck(i % 2 === 0 ? alice : bob, envelope))).toBe("ok");
    }
    const { stream, reader } = open(bob, "half-closing subscriber");
    stream.subscribe(sessionId);
    stream.end();
    expect(frameIds(await reader.take(201, "the whole history"))).toEqual(["m0", ...history.map((e) => e.messageId)]);
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("ends the stream with OK after the echo of an envelope sent just before it", async () => {
    const sessionId = newSessionId();
    const { stream, reader } = open(alice, "half-closing sender");
    stream.send(sessionStart({ sessionId, participants: [ALICE] }));
    stream.send(proposal(sessionId, "m1", "p1"));
    stream.end();
    expect(frameIds(await reader.take(2, "both echoes"))).toEqual(["m0", "m1"]);
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("duplicates and session-scoped Progress produce no output on the stream", async () => {
    const sessionId = newSessionId();
    const { stream, reader } = open(alice, "sender of duplicates");
    const start = sessionStart({ sessionId, participants: [ALICE] });
    stream.send(start);
    stream.send(start);
    stream.send(proposal(sessionId, "m1", "p1"));
    stream.send(proposal(sessionId, "m1", "p1"));
    stream.send(
      buildEnvelope({
        mode: ModeId.Decision,
        messageType: "Progress",
        messageId: "progress-1",
        sessionId,
        payload: new Uint8Array(),
      }),
    );
    stream.send(proposal(sessionId, "m2", "p2"));
    stream.end();
    expect(frameIds(await reader.take(3))).toEqual(["m0", "m1", "m2"]);
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("ends an unbound stream with OK at once", async () => {
    const { stream, reader } = open(alice, "idle stream");
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });
});

describe("terminal errors end the stream with a status", () => {
  it.each([
    {
      name: "a frame with both an envelope and subscribe_session_id",
      details: "StreamSessionRequest must not contain both envelope and subscribe_session_id",
      frame: (sessionId: string): StreamSessionRequest => ({
        envelope: proposal(sessionId, "m9"),
        subscribeSessionId: sessionId,
        afterSequence: 0n,
      }),
    },
    {
      name: "a frame with neither",
      details: "StreamSessionRequest must contain an envelope or subscribe_session_id",
      frame: (): StreamSessionRequest => ({ envelope: undefined, subscribeSessionId: "", afterSequence: 0n }),
    },
  ])("$name → INVALID_ARGUMENT", async ({ frame, details }) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    // The typed client never builds such frames, so write one with the generated client.
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer alice");
    const call = alice.grpcClient.streamSession(metadata);
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      call.on("error", (error: ServiceError) => resolve({ code: error.code, details: error.details }));
      call.on("data", () => undefined);
    });
    call.write(frame(sessionId));
    expect(await ended).toEqual({ code: status.INVALID_ARGUMENT, details });
  });

  type Scenario = {
    name: string;
    status: string;
    details?: string;
    /** Frames to send; the stream is expected to end with `status` after them. */
    frames: (sessionId: string, other: string) => ((stream: SessionStream) => void)[];
    /** Frames that arrive (in order) before the terminal status. */
    before?: string[];
  };

  const scenarios: Scenario[] = [
    {
      name: "subscribing to a second session on a bound stream",
      status: "INVALID_ARGUMENT",
      details: "StreamSession may only carry envelopes for one session_id",
      frames: (sessionId, other) => [(s) => s.subscribe(sessionId), (s) => s.subscribe(other)],
      before: ["m0"],
    },
    {
      name: "an envelope for a second session on a bound stream",
      status: "INVALID_ARGUMENT",
      details: "StreamSession may only carry envelopes for one session_id",
      frames: (sessionId, other) => [(s) => s.subscribe(sessionId), (s) => s.send(proposal(other, "x1"))],
      before: ["m0"],
    },
    {
      name: "subscribing to an unknown session",
      status: "NOT_FOUND",
      frames: () => [(s) => s.subscribe("unknown-session-id-0123456789")],
    },
    {
      name: "an envelope whose mode differs from the session's",
      status: "INVALID_ARGUMENT",
      details: "INVALID_ENVELOPE: envelope mode does not match the bound session mode",
      frames: (sessionId) => [
        (s) =>
          s.send(buildEnvelope({ mode: ModeId.Task, messageType: "TaskRequest", messageId: "x1", sessionId, payload: new Uint8Array() })),
      ],
    },
    {
      name: "an envelope with a spoofed sender",
      status: "UNAUTHENTICATED",
      frames: (sessionId) => [(s) => s.send({ ...proposal(sessionId, "x1"), sender: BOB })],
    },
    {
      name: "an ambient Signal (no session)",
      status: "INVALID_ARGUMENT",
      details: "StreamSession requires a non-empty session_id",
      frames: () => [(s) => s.send(buildSignal({ messageId: "sig", payload: { signalType: "ping" } }))],
    },
    {
      name: "a SessionStart with an invalid session id",
      status: "INVALID_ARGUMENT",
      frames: () => [(s) => s.send(sessionStart({ sessionId: "s1", participants: [ALICE] }))],
    },
    {
      name: "a second SessionStart for an existing session",
      status: "ALREADY_EXISTS",
      frames: (sessionId) => [(s) => s.send(sessionStart({ sessionId, participants: [ALICE], messageId: "again" }))],
    },
  ];

  it.each(scenarios)("$name → $status", async ({ frames, status, details, before }) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const other = await openDecisionSession(alice, [ALICE, BOB]);
    const { stream, reader } = open(alice, "stream under test");
    for (const frame of frames(sessionId, other)) frame(stream);
    if (before) expect(frameIds(await reader.take(before.length))).toEqual(before);
    const end = await reader.end(`the terminal ${status}`);
    expect(end.status).toBe(status);
    if (details !== undefined) expect(end.details).toBe(details);
  });

  it.each([
    { name: "resolved", finish: "commit" },
    { name: "cancelled", finish: "cancel" },
  ])("an envelope for a $name session ends the stream with FAILED_PRECONDITION SESSION_NOT_OPEN", async ({ finish }) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    if (finish === "cancel") {
      expect((await alice.cancelSession({ sessionId, reason: "done" })).ack?.ok).toBe(true);
    } else {
      await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
      const commit = commitment(sessionId, "m2");
      expect(ackCode(await sendAck(alice, commit))).toBe("ok");
    }
    const { stream, reader } = open(alice, "stream to a finished session");
    stream.send(proposal(sessionId, "late", "p9"));
    // The status of SESSION_NOT_OPEN in the error table (the reference answers INVALID_ARGUMENT here).
    expect(await reader.end()).toEqual({ status: "FAILED_PRECONDITION", details: "SESSION_NOT_OPEN" });
  });

  it("a stream without credentials fails UNAUTHENTICATED", async () => {
    const { stream, reader } = open(runtime.client({}), "anonymous stream");
    stream.subscribe(newSessionId());
    expect(await reader.end()).toEqual({ status: "UNAUTHENTICATED", details: "Unauthenticated" });
  });
});

describe("inline errors keep the stream open and carry registry codes", () => {
  it("a non-participant's subscribe gets an inline FORBIDDEN and the stream stays usable", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const { stream, reader } = open(outsider, "outsider's stream");
    stream.subscribe(sessionId);
    const error = inlineError(await reader.next("the inline FORBIDDEN"));
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toContain("not a declared participant or observer");
    // Not bound: the same stream may now start and follow a session of its own.
    const own = newSessionId();
    stream.send(sessionStart({ sessionId: own, participants: [OUTSIDER] }));
    expect(frameIds([await reader.next("the echo of its own SessionStart")])).toEqual(["m0"]);
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("a stranger whose envelope was refused is not shown the session's envelopes afterwards", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const { stream, reader } = open(outsider, "stranger's stream");
    stream.send(proposal(sessionId, "x1", "p1"));
    expect(inlineError(await reader.next("the inline FORBIDDEN")).code).toBe("FORBIDDEN");
    await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
    await acceptAll(bob, [proposal(sessionId, "m2", "p2")]);
    // Half-close flushes everything the stream would show: there must be nothing.
    stream.end();
    expect(await reader.end("the end, with no envelope of a session it may not read")).toEqual({ status: "OK", details: "" });
  });

  it("a stranger bound to a session id before it exists is not shown the session someone else starts", async () => {
    const sessionId = newSessionId();
    const { stream, reader } = open(outsider, "stranger's stream");
    stream.send(proposal(sessionId, "x1", "p1"));
    expect(inlineError(await reader.next("the inline SESSION_NOT_FOUND")).code).toBe("SESSION_NOT_FOUND");
    await openDecisionSession(alice, [ALICE, BOB], sessionId);
    await acceptAll(alice, [proposal(sessionId, "m1", "p1")]);
    stream.end();
    expect(await reader.end("the end, with no envelope of a session it may not read")).toEqual({ status: "OK", details: "" });
  });

  it.each([
    {
      name: "a non-participant's envelope",
      code: "FORBIDDEN",
      client: () => outsider,
      envelope: (sessionId: string) => proposal(sessionId, "x1", "p1"),
    },
    {
      name: "a wrong macp_version",
      code: "UNSUPPORTED_PROTOCOL_VERSION",
      client: () => alice,
      envelope: (sessionId: string) => ({ ...proposal(sessionId, "x1", "p1"), macpVersion: "2.0" }),
    },
    {
      name: "an empty message_id",
      code: "INVALID_ENVELOPE",
      client: () => alice,
      envelope: (sessionId: string) => ({ ...proposal(sessionId, "x1", "p1"), messageId: "" }),
    },
    {
      name: "a message the mode rejects",
      code: "INVALID_ENVELOPE",
      client: () => alice,
      envelope: (sessionId: string) => message({ sessionId, messageType: "Vote", messageId: "x1", json: { proposal_id: "nope", vote: "APPROVE" } }),
    },
    {
      name: "a message for an unknown session",
      code: "SESSION_NOT_FOUND",
      client: () => alice,
      envelope: () => proposal("unknown-session-id-0123456789", "x1", "p1"),
    },
    {
      // Decision mode answers FORBIDDEN for types it does not know (modes-and-policy.md §5.4).
      name: "a message type the mode does not know",
      code: "FORBIDDEN",
      client: () => alice,
      envelope: (sessionId: string) =>
        buildEnvelope({ mode: ModeId.Decision, messageType: "Teleport", messageId: "x1", sessionId, payload: new Uint8Array([1]) }),
    },
  ])("$name → inline $code, then the stream still works", async ({ code, client, envelope }) => {
    const sessionId = await openDecisionSession(alice, [ALICE, BOB]);
    const { stream, reader } = open(client(), "stream under test");
    const sent = envelope(sessionId);
    stream.send(sent);
    const error = inlineError(await reader.next(`the inline ${code}`));
    expect(error.code).toBe(code);
    expect(error.message).not.toBe("");
    expect(error.message).not.toBe(code);
    if (sent.sessionId === sessionId && code !== "UNSUPPORTED_PROTOCOL_VERSION" && code !== "INVALID_ENVELOPE") {
      expect(error.sessionId).toBe(sessionId);
    }
    stream.end();
    expect(await reader.end()).toEqual({ status: "OK", details: "" });
  });

  it("a mode-restricted identity's envelope gets an inline FORBIDDEN", async () => {
    const restricted = await startTestRuntime({
      MACP_AUTH_TOKENS_JSON: JSON.stringify([
        { token: "alice", sender: ALICE },
        { token: "tasker", sender: "agent://tasker", allowed_modes: [ModeId.Task] },
      ]),
    });
    try {
      const sessionId = await openDecisionSession(restricted.client("alice"), [ALICE, "agent://tasker"]);
      const { stream, reader } = open(restricted.client("tasker"), "restricted stream");
      stream.send(proposal(sessionId, "x1", "p1"));
      expect(inlineError(await reader.next("the inline FORBIDDEN")).code).toBe("FORBIDDEN");
      stream.end();
      expect(await reader.end()).toEqual({ status: "OK", details: "" });
    } finally {
      await restricted.close();
    }
  });
});
