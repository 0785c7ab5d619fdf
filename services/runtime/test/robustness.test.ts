import { Client, Metadata, credentials, status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { buildEnvelope } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { Envelope, MACP_ERROR_CODES, ModeId, SendResponse, StreamSessionRequest, int64JsonReplacer } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ackCode,
  failureOf,
  newSessionId,
  openDecisionSession,
  proposal,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const SEND_PATH = "/macp.v1.MACPRuntimeService/Send";
const STREAM_PATH = "/macp.v1.MACPRuntimeService/StreamSession";

/** A small seeded generator (mulberry32): the same "random" inputs on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomBytes(next: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
}

const identity = (value: Buffer): Buffer => value;

type RawOutcome = { kind: "status"; code: number; details: string } | { kind: "response"; bytes: Buffer };

/** A unary call with raw bytes as the request message: no client-side encoding at all. */
function rawCall(client: Client, path: string, request: Buffer, metadata = new Metadata()): Promise<RawOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, request, metadata, { deadline: Date.now() + 10_000 }, (error, response) => {
      if (error) resolve({ kind: "status", code: (error as ServiceError).code, details: (error as ServiceError).details });
      else resolve({ kind: "response", bytes: response ?? Buffer.alloc(0) });
    });
  });
}

/** grpc.health.v1.Health/Check, encoded by hand: HealthCheckRequest{service=1}, response {status=1}. */
async function healthOf(client: Client, service: string): Promise<string> {
  const name = Buffer.from(service, "utf8");
  const request = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  const outcome = await rawCall(client, "/grpc.health.v1.Health/Check", request);
  if (outcome.kind === "status") return `status ${outcome.code}`;
  const status = outcome.bytes.length === 0 ? 0 : outcome.bytes[0] === 0x08 ? (outcome.bytes[1] ?? 0) : -1;
  return ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][status] ?? `unparsable ${outcome.bytes.toString("hex")}`;
}

const REGISTRY_CODES: readonly string[] = MACP_ERROR_CODES;

let runtime: TestRuntime;
let alice: MacpClient;
let raw: Client;

beforeAll(async () => {
  runtime = await startTestRuntime();
  alice = runtime.client(ALICE);
  raw = new Client(runtime.address, credentials.createInsecure());
});
afterAll(async () => {
  raw.close();
  await runtime.close();
});

/** After every abuse below, the runtime must still be healthy and still accept a normal Send. */
async function expectStillServing(): Promise<void> {
  expect(await healthOf(raw, "macp.v1.MACPRuntimeService")).toBe("SERVING");
  expect(await healthOf(raw, "")).toBe("SERVING");
  const sessionId = await openDecisionSession(alice, [ALICE]);
  expect(ackCode(await sendAck(alice, proposal(sessionId, "m1")))).toBe("ok");
}

describe("health service", () => {
  it.each([
    { service: "macp.v1.MACPRuntimeService", expected: "SERVING" },
    { service: "", expected: "SERVING" },
    { service: "no.such.Service", expected: "status 5" },
  ])("Check($service) → $expected", async ({ service, expected }) => {
    expect(await healthOf(raw, service)).toBe(expected);
  });
});

describe("garbage on the wire", () => {
  it("random bytes as a Send request message each get a gRPC status or a refusing Ack", async () => {
    const next = seeded(0x5eed);
    const outcomes: string[] = [];
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(next, 1 + Math.floor(next() * 300));
      const outcome = await rawCall(raw, SEND_PATH, bytes, bearer(ALICE));
      if (outcome.kind === "status") {
        outcomes.push(`status ${outcome.code}`);
        // Undecodable requests are the client's fault: INVALID_ARGUMENT, never INTERNAL.
        expect(outcome.code, `request ${bytes.toString("hex")}`).toBe(status.INVALID_ARGUMENT);
        continue;
      }
      // Some random bytes are a valid (if odd) SendRequest: then an Ack must refuse it properly.
      const ack = SendResponse.decode(outcome.bytes).ack;
      expect(ack?.ok, `request ${bytes.toString("hex")}`).toBe(false);
      expect(REGISTRY_CODES, `request ${bytes.toString("hex")}`).toContain(ack?.error?.code);
      outcomes.push(`ack ${ack?.error?.code}`);
    }
    expect(outcomes.filter((o) => o === "ack INTERNAL_ERROR")).toEqual([]);
    await expectStillServing();
  });

  it("random bytes as the envelope's own encoding get an Ack with a registry code, never INTERNAL_ERROR", async () => {
    const next = seeded(42);
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const inner = randomBytes(next, Math.floor(next() * 200));
      // SendRequest{envelope(1) = <inner bytes>}: a well-formed outer message around junk.
      const request = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner]);
      const outcome = await rawCall(raw, SEND_PATH, request, bearer(ALICE));
      if (outcome.kind === "status") {
        codes.add(`status ${outcome.code}`);
        expect(outcome.code).not.toBe(0);
        continue;
      }
      const ack = SendResponse.decode(outcome.bytes).ack;
      codes.add(ackCode(ack ?? { ok: false } as never));
      expect(ack?.ok).toBe(false);
      expect(ack?.error?.code).not.toBe("INTERNAL_ERROR");
      expect(REGISTRY_CODES).toContain(ack?.error?.code);
    }
    expect(codes.size).toBeGreaterThan(0);
    await expectStillServing();
  });

  it.each([
    { what: "an empty request (no envelope)", request: Buffer.alloc(0), expected: "status 3 SendRequest must contain an envelope" },
    { what: "an empty envelope", request: Buffer.from([0x0a, 0x00]), expected: "ack UNSUPPORTED_PROTOCOL_VERSION" },
    { what: "a truncated length prefix", request: Buffer.from([0x0a, 0x7f, 0x01]), expected: "status 3 INVALID_REQUEST: request could not be decoded: premature EOF" },
    { what: "an invalid wire type", request: Buffer.from([0x0f, 0x01]), expected: "status 3 INVALID_REQUEST: request could not be decoded" },
  ])("$what → $expected", async ({ request, expected }) => {
    const outcome = await rawCall(raw, SEND_PATH, request, bearer(ALICE));
    const seen =
      outcome.kind === "status"
        ? `status ${outcome.code}${outcome.code === 3 ? ` ${outcome.details}` : ""}`
        : `ack ${SendResponse.decode(outcome.bytes).ack?.error?.code}`;
    expect(seen.startsWith(expected), seen).toBe(true);
    await expectStillServing();
  });

  it("an envelope over the transport's message limit fails RESOURCE_EXHAUSTED; one under it but over the payload limit gets PAYLOAD_TOO_LARGE", async () => {
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const big = { ...proposal(sessionId, "big"), payload: new Uint8Array(2 * 1024 * 1024) };
    expect(ackCode(await sendAck(alice, big))).toBe("PAYLOAD_TOO_LARGE");
    const huge = { ...proposal(sessionId, "huge"), payload: new Uint8Array(6 * 1024 * 1024) };
    expect((await failureOf(alice.send({ envelope: huge }))).status).toBe("RESOURCE_EXHAUSTED");
    await expectStillServing();
  });

  it.each([
    { what: "as the first frame", subscribeFirst: false },
    { what: "after a subscribe frame", subscribeFirst: true },
  ])("a StreamSession frame of random bytes $what ends that stream with a status", async ({ subscribeFirst }) => {
    const sessionId = await openDecisionSession(alice, [ALICE]);
    const call = raw.makeBidiStreamRequest(STREAM_PATH, identity, identity, bearer(ALICE), {});
    const frames: Buffer[] = [];
    const ended = new Promise<number>((resolve) => {
      call.on("data", (frame: Buffer) => {
        frames.push(frame);
        call.write(randomBytes(seeded(3), 64));
      });
      call.on("error", (error: ServiceError) => resolve(error.code));
      call.on("end", () => resolve(0));
    });
    if (subscribeFirst) {
      call.write(Buffer.from(StreamSessionRequest.encode({ envelope: undefined, subscribeSessionId: sessionId, afterSequence: 0n }).finish()));
    } else {
      call.write(Buffer.from([0x0f, 0x01, 0x02]));
    }
    const code = await ended;
    expect(code).toBe(status.INVALID_ARGUMENT);
    expect(frames.length).toBe(subscribeFirst ? 1 : 0);
    await expectStillServing();
  });

  it("an envelope whose int64 timestamp does not fit a JavaScript number is accepted, as by the reference", async () => {
    // Envelope{macp_version=1 "1.0", message_type=3 "Signal", message_id=4 "t", timestamp_unix_ms=7 2^62}.
    const envelope = Buffer.concat([
      Buffer.from([0x0a, 0x03]),
      Buffer.from("1.0"),
      Buffer.from([0x1a, 0x06]),
      Buffer.from("Signal"),
      Buffer.from([0x22, 0x01]),
      Buffer.from("t"),
      Buffer.from([0x38]),
      varint64(2n ** 62n),
    ]);
    const outcome = await rawCall(raw, SEND_PATH, Buffer.concat([Buffer.from([0x0a]), varint(envelope.length), envelope]), bearer(ALICE));
    if (outcome.kind === "status") throw new Error(`expected an Ack, got status ${outcome.code} ${outcome.details}`);
    expect(SendResponse.decode(outcome.bytes).ack).toMatchObject({ ok: true, messageId: "t" });
    await expectStillServing();
  });

  it("envelopes with random field values all get an Ack with a registry code", async () => {
    const next = seeded(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const text = (): string =>
      pick(["", " ", "1.0", "x", "SessionStart", "Signal", "Progress", "Commitment", ModeId.Decision, "ext.multi_round.v1", newSessionId(), "\u0000", "é", "a".repeat(300)]);
    const codes = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const envelope = Envelope.fromPartial({
        macpVersion: pick(["1.0", "1.0", "1.0", text()]),
        mode: text(),
        messageType: text(),
        messageId: text(),
        sessionId: text(),
        sender: pick(["", "", ALICE, text()]),
        // Any int64: two 32-bit draws.
        timestampUnixMs: BigInt.asIntN(64, (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32))),
        payload: randomBytes(next, Math.floor(next() * 64)),
      });
      const ack = await sendAck(alice, envelope);
      codes.add(ackCode(ack));
      if (!ack.ok) {
        expect(REGISTRY_CODES, JSON.stringify(envelope, int64JsonReplacer)).toContain(ack.error?.code);
        expect(ack.error?.code, JSON.stringify(envelope, int64JsonReplacer)).not.toBe("INTERNAL_ERROR");
      }
    }
    expect(codes.size).toBeGreaterThan(3);
    await expectStillServing();
  });
});

describe("typed refusals of malformed envelopes", () => {
  let sessionId: string;
  let taskSession: string;
  beforeAll(async () => {
    sessionId = await openDecisionSession(alice, [ALICE]);
    taskSession = newSessionId();
    const ack = await sendAck(alice, sessionStart({ mode: ModeId.Task, sessionId: taskSession, participants: [ALICE, "agent://worker"] }));
    expect(ackCode(ack)).toBe("ok");
  });

  const decision = (fields: Partial<Envelope>): (() => Envelope) => () => ({ ...proposal(sessionId, "x"), ...fields });
  const start = (fields: Partial<Envelope>): (() => Envelope) => () => ({ ...sessionStart({ sessionId: newSessionId(), participants: [ALICE] }), ...fields });

  it.each([
    { what: "an empty envelope", envelope: () => Envelope.fromPartial({}), code: "UNSUPPORTED_PROTOCOL_VERSION" },
    { what: "macp_version 1.1", envelope: decision({ macpVersion: "1.1" }), code: "UNSUPPORTED_PROTOCOL_VERSION" },
    { what: "macp_version ' 1.0'", envelope: decision({ macpVersion: " 1.0" }), code: "UNSUPPORTED_PROTOCOL_VERSION" },
    { what: "an empty message_type", envelope: decision({ messageType: "" }), code: "INVALID_ENVELOPE" },
    { what: "an empty message_id", envelope: decision({ messageId: "" }), code: "INVALID_ENVELOPE" },
    { what: "a blank mode", envelope: decision({ mode: "   " }), code: "INVALID_ENVELOPE" },
    { what: "an empty session_id", envelope: decision({ sessionId: "" }), code: "INVALID_ENVELOPE" },
    { what: "a Signal with a session_id", envelope: decision({ messageType: "Signal", mode: "" }), code: "INVALID_ENVELOPE" },
    { what: "a Signal with a mode", envelope: decision({ messageType: "Signal", sessionId: "" }), code: "INVALID_ENVELOPE" },
    { what: "a Signal with a junk payload", envelope: decision({ messageType: "Signal", sessionId: "", mode: "", payload: new Uint8Array([0xff, 0xff]) }), code: "INVALID_ENVELOPE" },
    { what: "a SessionStart in an unknown mode", envelope: start({ mode: "ext.nope.v1" }), code: "MODE_NOT_SUPPORTED" },
    { what: "a SessionStart with an empty payload", envelope: start({ payload: new Uint8Array() }), code: "INVALID_ENVELOPE" },
    { what: "a SessionStart with a junk payload", envelope: start({ payload: new Uint8Array([0xff, 0x01, 0x02]) }), code: "INVALID_ENVELOPE" },
    { what: "a message in an unknown mode for a live session", envelope: decision({ mode: "ext.nope.v1" }), code: "INVALID_ENVELOPE" },
    { what: "a message for an unknown session", envelope: () => proposal(newSessionId(), "x"), code: "SESSION_NOT_FOUND" },
    { what: "a decision message with a junk payload", envelope: decision({ payload: new Uint8Array([0xff, 0xff, 0xff]) }), code: "INVALID_ENVELOPE" },
    { what: "an unknown message type in decision mode", envelope: decision({ messageType: "Teleport" }), code: "FORBIDDEN" },
    {
      what: "an unknown message type in task mode",
      envelope: () => buildEnvelope({ mode: ModeId.Task, sessionId: taskSession, messageType: "Teleport", messageId: "x", payload: new Uint8Array() }),
      code: "INVALID_ENVELOPE",
    },
  ])("$what → $code", async ({ envelope, code }) => {
    expect(ackCode(await sendAck(alice, envelope()))).toBe(code);
  });

  it.each([
    { id: "s1", ok: false },
    { id: "decision-demo-1", ok: false },
    { id: "3F2504E0-4F89-41D3-9A0C-0305E82C3301", ok: false },
    { id: "c232ab00-9414-11ec-b3c8-9f6bdeced846", ok: false },
    { id: "abcdefghij-klmnopqrstuvwxyz-0123456789", ok: true },
    { id: "abcdefghijklmnopqrstuvwxy-0123456789", ok: false },
    { id: "session.with.dots.and.more.chars", ok: false },
    { id: "a+b/c=d".repeat(4), ok: false },
    { id: "01ARZ3NDEKTSV4RRFFQ69G5FAV", ok: true },
    { id: "AAAAAAAAAAAAAAAAAAAAAA", ok: true },
    { id: "AAAAAAAAAAAAAAAAAAAAA", ok: false },
    { id: "0190163d-8694-739b-aea5-966c26f8ad91", ok: true },
    { id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", ok: true },
  ])("SessionStart with session id $id → $ok", async ({ id, ok }) => {
    const ack = await sendAck(alice, sessionStart({ sessionId: id, participants: [ALICE] }));
    expect(ackCode(ack)).toBe(ok ? "ok" : "INVALID_SESSION_ID");
  });

  it("the runtime is still serving after all of it", expectStillServing);
});

function bearer(sender: string): Metadata {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${sender}`);
  return metadata;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function varint64(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
