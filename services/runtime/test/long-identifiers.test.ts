import { Metadata } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { MacpClientError, buildSignal } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { IDENTIFIER_LIMITS, MAX_ECHOED_ID_BYTES, MAX_ERROR_MESSAGE_BYTES, ModeId } from "@macp/protocol";
import { MACPRuntimeServiceService } from "@macp/protocol/grpc";
import type { Ack, StreamSessionResponse } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ackCode,
  newSessionId,
  openDecisionSession,
  proposal,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";

const FUZZER = "agent://fuzzer";
const MiB = 1024 * 1024;
/** 1 MiB of ASCII, and 1 MiB of two-byte characters (so echoes must be cut on character boundaries). */
const LONG = "x".repeat(MiB);
const LONG_UTF8 = "é".repeat(MiB / 2);
/** Identifiers inside payloads: 1 MiB would trip the payload limit first, so 64 KiB. */
const LONG_IN_PAYLOAD = "x".repeat(64 * 1024);
/** Bounds every call, so a wedged call fails with DEADLINE_EXCEEDED instead of hanging. */
const DEADLINE_MS = 10_000;

const STATUS_NAMES: Record<number, string> = {
  0: "OK", 1: "CANCELLED", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION", 13: "INTERNAL", 14: "UNAVAILABLE", 16: "UNAUTHENTICATED",
};

const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** How a call failed, as a user of @macp/client sees it: status name, MACP code (from trailers), message. */
interface Failure {
  readonly status: string;
  readonly macpCode: string | undefined;
  readonly details: string;
}

function failureOf(error: unknown): Failure {
  if (!(error instanceof MacpClientError)) throw error;
  return { status: STATUS_NAMES[error.grpcCode] ?? String(error.grpcCode), macpCode: error.macpCode, details: error.details };
}

async function outcomeOf(call: Promise<unknown>): Promise<"OK" | Failure> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return failureOf(error);
  }
}

/** Protobuf bytes of an unknown length-delimited field (number 1000) holding `text`, appended to a request. */
function unknownField(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const varint = (value: number): number[] => {
    const bytes: number[] = [];
    while (value > 0x7f) {
      bytes.push((value & 0x7f) | 0x80);
      value = Math.floor(value / 128);
    }
    bytes.push(value);
    return bytes;
  };
  return Buffer.concat([Buffer.from(varint((1000 << 3) | 2)), Buffer.from(varint(body.length)), body]);
}

const RPC_PATHS = Object.values(MACPRuntimeServiceService).map((method) => method.path);
const rpcName = (path: string): string => path.slice(path.lastIndexOf("/") + 1);
const pathOf = (name: string): string => {
  const path = RPC_PATHS.find((candidate) => rpcName(candidate) === name);
  if (path === undefined) throw new Error(`no RPC ${name}`);
  return path;
};

describe("identifiers of 1 MiB on every RPC, then the same connection keeps working", () => {
  let runtime: TestRuntime;
  let fuzzer: MacpClient;
  let sessionId: string;
  const bearer = new Metadata();
  bearer.set("authorization", `Bearer ${FUZZER}`);

  beforeAll(async () => {
    runtime = await startTestRuntime();
    fuzzer = runtime.client(FUZZER);
    sessionId = await openDecisionSession(fuzzer, [FUZZER]);
  });
  afterAll(() => runtime.close());

  /** A raw unary call on the fuzzer's own channel: request bytes as given, the status as received. */
  function rawUnary(path: string, request: Buffer): Promise<"OK" | Failure> {
    return new Promise((resolve) => {
      fuzzer.grpcClient.makeUnaryRequest(
        path,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        request,
        bearer,
        { deadline: Date.now() + DEADLINE_MS },
        (error: ServiceError | null) => resolve(error ? failureOf(MacpClientError.from(error)) : "OK"),
      );
    });
  }

  /**
   * A raw server-streaming call on the fuzzer's channel with a 1 MiB unknown field: it must stay
   * open (or answer) and must not break the channel; it is cancelled afterwards.
   */
  async function rawWatch(path: string): Promise<string> {
    const call = fuzzer.grpcClient.makeServerStreamRequest(path, (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, unknownField(LONG), bearer, {});
    const ended = new Promise<string>((resolve) => {
      call.on("error", (error: ServiceError) => resolve(STATUS_NAMES[error.code] ?? String(error.code)));
      call.on("status", (status: { code: number }) => resolve(STATUS_NAMES[status.code] ?? String(status.code)));
      call.on("data", () => undefined);
    });
    await expectConnectionWorks();
    call.cancel();
    return ended;
  }

  /** A normal call on the very same client (one channel, one HTTP/2 connection) succeeds. */
  async function expectConnectionWorks(): Promise<void> {
    const { metadata } = await fuzzer.getSession({ sessionId }, { deadlineMs: DEADLINE_MS });
    expect(metadata?.sessionId).toBe(sessionId);
  }

  /** A failure whose message and code stay small, whatever the request carried. */
  function expectBounded(outcome: "OK" | Failure, status: string, macpCode: string): void {
    expect(outcome).toMatchObject({ status, macpCode });
    if (outcome !== "OK") expect(utf8Bytes(outcome.details)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
  }

  /** An Ack refusing the envelope, with every echoed identifier bounded and well-formed. */
  function expectRefusedAck(ack: Ack, code: string): void {
    expect(ack).toMatchObject({ ok: false, error: { code } });
    for (const echoed of [ack.sessionId, ack.messageId, ack.error?.sessionId ?? "", ack.error?.messageId ?? ""]) {
      expect(utf8Bytes(echoed)).toBeLessThanOrEqual(MAX_ECHOED_ID_BYTES);
      expect(echoed).not.toContain("\uFFFD");
    }
  }

  const covered = new Set<string>();
  const rpc = (name: string): string => {
    covered.add(pathOf(name));
    return name;
  };

  it.each([
    ["GetSession", () => fuzzer.getSession({ sessionId: LONG })],
    ["CancelSession", () => fuzzer.cancelSession({ sessionId: LONG, reason: "x" })],
    ["SuspendSession", () => fuzzer.suspendSession({ sessionId: LONG })],
    ["ResumeSession", () => fuzzer.resumeSession({ sessionId: LONG_UTF8 })],
  ] as const)("%s with a 1 MiB session id: INVALID_ARGUMENT INVALID_SESSION_ID", async (name, call) => {
    rpc(name);
    expectBounded(await outcomeOf(call()), "INVALID_ARGUMENT", "INVALID_SESSION_ID");
    await expectConnectionWorks();
  });

  it.each([
    ["GetManifest", () => fuzzer.getManifest({ agentId: LONG })],
    ["RegisterExtMode", () => fuzzer.registerExtMode({ modeDescriptor: { mode: LONG, modeVersion: "1.0.0", title: "", description: "", determinismClass: "", participantModel: "", messageTypes: ["A"], terminalMessageTypes: [], schemaUris: {} } })],
    ["UnregisterExtMode", () => fuzzer.unregisterExtMode({ mode: LONG })],
    ["PromoteMode", () => fuzzer.promoteMode({ mode: "ext.multi_round.v1", promotedModeName: LONG_UTF8 })],
    ["RegisterPolicy", () => fuzzer.registerPolicy({ policyDescriptor: { policyId: LONG, mode: "*", description: "", rules: "{}", schemaVersion: 1, registeredAtUnixMs: 0n } })],
    ["UnregisterPolicy", () => fuzzer.unregisterPolicy({ policyId: LONG })],
    ["GetPolicy", () => fuzzer.getPolicy({ policyId: LONG })],
    ["ListPolicies", () => fuzzer.listPolicies({ mode: LONG })],
  ] as const)("%s with a 1 MiB identifier: INVALID_ARGUMENT", async (name, call) => {
    rpc(name);
    expectBounded(await outcomeOf(call()), "INVALID_ARGUMENT", "INVALID_ENVELOPE");
    await expectConnectionWorks();
  });

  it("RegisterPolicy whose rules quote a 1 MiB value: ok=false with a bounded error text", async () => {
    const rules = JSON.stringify({ voting: { weights: { [LONG]: "heavy" } } });
    const response = await fuzzer.registerPolicy({
      policyDescriptor: { policyId: "policy.long-rules", mode: "*", description: "", rules, schemaVersion: 1, registeredAtUnixMs: 0n },
    });
    expect(response.ok).toBe(false);
    expect(response.error).toMatch(/^rules do not match schema for mode '\*': voting\.weights\["x+…\[truncated, \d+ bytes\]$/);
    expect(utf8Bytes(response.error)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    await expectConnectionWorks();
  });

  it("Initialize offering a 1 MiB protocol version: FAILED_PRECONDITION UNSUPPORTED_PROTOCOL_VERSION", async () => {
    rpc("Initialize");
    expectBounded(
      await outcomeOf(fuzzer.initialize({ supportedProtocolVersions: [LONG] })),
      "FAILED_PRECONDITION",
      "UNSUPPORTED_PROTOCOL_VERSION",
    );
    await expectConnectionWorks();
  });

  it.each(["ListModes", "ListExtModes", "ListRoots", "ListSessions"])(
    "%s with a 1 MiB unknown field answers OK",
    async (name) => {
      expect(await rawUnary(pathOf(rpc(name)), unknownField(LONG))).toBe("OK");
      await expectConnectionWorks();
    },
  );

  it.each(["WatchModeRegistry", "WatchRoots", "WatchSignals", "WatchSessions", "WatchPolicies"])(
    "%s with a 1 MiB unknown field stays open until cancelled",
    async (name) => {
      expect(await rawWatch(pathOf(rpc(name)))).toBe("CANCELLED");
      await expectConnectionWorks();
    },
  );

  it.each([
    ["1 MiB session_id", () => proposal(LONG_UTF8, "m-long-session"), "INVALID_SESSION_ID"],
    ["1 MiB message_id", () => proposal(sessionId, LONG_UTF8), "INVALID_ENVELOPE"],
    ["1 MiB mode", () => ({ ...proposal(sessionId, "m-long-mode"), mode: LONG }), "INVALID_ENVELOPE"],
    ["1 MiB message_type", () => ({ ...proposal(sessionId, "m-long-type"), messageType: LONG }), "INVALID_ENVELOPE"],
    ["1 MiB sender", () => ({ ...proposal(sessionId, "m-long-sender"), sender: LONG }), "INVALID_ENVELOPE"],
    ["payload's participant", () => sessionStart({ sessionId: newSessionId(), participants: [FUZZER, LONG_IN_PAYLOAD] }), "INVALID_ENVELOPE"],
    ["payload's policy_version", () => sessionStart({ sessionId: newSessionId(), participants: [FUZZER], payload: { policyVersion: LONG_IN_PAYLOAD } }), "INVALID_ENVELOPE"],
    ["payload's signal_type", () => buildSignal({ messageId: "sig-long", payload: { signalType: LONG_IN_PAYLOAD } }), "INVALID_ENVELOPE"],
  ] as const)("Send with a long %s: a refusing Ack with bounded echoes", async (_field, envelope, code) => {
    rpc("Send");
    expectRefusedAck(await sendAck(fuzzer, envelope()), code);
    await expectConnectionWorks();
  });

  /** Reads a StreamSession to its end (bounded by the call deadline): frames and the terminal failure. */
  async function drain(stream: AsyncIterable<StreamSessionResponse>): Promise<{ frames: StreamSessionResponse[]; failure?: Failure }> {
    const frames: StreamSessionResponse[] = [];
    try {
      for await (const frame of stream) frames.push(frame);
      return { frames };
    } catch (error) {
      return { frames, failure: failureOf(error) };
    }
  }

  it("StreamSession as a passive subscriber of a 1 MiB session id: terminal INVALID_ARGUMENT INVALID_SESSION_ID", async () => {
    rpc("StreamSession");
    const stream = fuzzer.streamSession({ deadlineMs: DEADLINE_MS });
    stream.subscribe(LONG);
    const { frames, failure } = await drain(stream);
    expect(frames).toEqual([]);
    expectBounded(failure ?? "OK", "INVALID_ARGUMENT", "INVALID_SESSION_ID");
    await expectConnectionWorks();
  });

  it("StreamSession sending an envelope with a 1 MiB session id: terminal INVALID_ARGUMENT INVALID_SESSION_ID", async () => {
    const stream = fuzzer.streamSession({ deadlineMs: DEADLINE_MS });
    stream.send(proposal(LONG_UTF8, "m-stream-long-session"));
    const { frames, failure } = await drain(stream);
    expect(frames).toEqual([]);
    expectBounded(failure ?? "OK", "INVALID_ARGUMENT", "INVALID_SESSION_ID");
    await expectConnectionWorks();
  });

  it("StreamSession sending an envelope with a 1 MiB message id: a bounded inline error, and the stream goes on", async () => {
    const stream = fuzzer.streamSession({ deadlineMs: DEADLINE_MS });
    stream.send(proposal(sessionId, LONG_UTF8));
    stream.send(proposal(sessionId, "m-after-long", "p-after-long"));
    stream.end();
    const { frames, failure } = await drain(stream);
    expect(failure).toBeUndefined();
    const [inline, echo] = frames.map((frame) => frame.response);
    expect(inline?.$case === "error" && inline.value.code).toBe("INVALID_ENVELOPE");
    if (inline?.$case === "error") expect(utf8Bytes(inline.value.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(echo?.$case === "envelope" && echo.value.messageId).toBe("m-after-long");
    await expectConnectionWorks();
  });

  it("an identifier beyond the transport's 4 MiB receive limit gets RESOURCE_EXHAUSTED, and the connection keeps working", async () => {
    const outcome = await outcomeOf(fuzzer.getSession({ sessionId: "x".repeat(5 * MiB) }));
    expect(outcome).toMatchObject({ status: "RESOURCE_EXHAUSTED" });
    await expectConnectionWorks();
  });

  it("covered all 24 RPCs of macp.v1.MACPRuntimeService", () => {
    expect(RPC_PATHS).toHaveLength(24);
    expect([...covered].sort()).toEqual([...RPC_PATHS].sort());
  });
});

describe("identifier limits at their boundary", () => {
  let runtime: TestRuntime;
  let client: MacpClient;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    client = runtime.client(FUZZER);
  });
  afterAll(() => runtime.close());

  const base64url = (length: number): string => "A".repeat(length);

  it("a session id of exactly the limit starts a session; one byte more is INVALID_SESSION_ID", async () => {
    const limit = IDENTIFIER_LIMITS.sessionId;
    expect(ackCode(await sendAck(client, sessionStart({ sessionId: base64url(limit), participants: [FUZZER] })))).toBe("ok");
    expect(ackCode(await sendAck(client, sessionStart({ sessionId: base64url(limit + 1), participants: [FUZZER] })))).toBe(
      "INVALID_SESSION_ID",
    );
    expect((await client.getSession({ sessionId: base64url(limit) })).metadata?.sessionId).toBe(base64url(limit));
  });

  it("a message id of exactly the limit is accepted; one byte more is INVALID_ENVELOPE", async () => {
    const sessionId = await openDecisionSession(client, [FUZZER]);
    const limit = IDENTIFIER_LIMITS.messageId;
    expect(ackCode(await sendAck(client, proposal(sessionId, "m".repeat(limit), "p1")))).toBe("ok");
    expect(ackCode(await sendAck(client, proposal(sessionId, "m".repeat(limit + 1), "p2")))).toBe("INVALID_ENVELOPE");
  });

  it("an unknown session id within the limit is still NOT_FOUND with the id in the message", async () => {
    const unknown = "B".repeat(IDENTIFIER_LIMITS.sessionId);
    const outcome = await outcomeOf(client.getSession({ sessionId: unknown }));
    expect(outcome).toEqual({ status: "NOT_FOUND", macpCode: "SESSION_NOT_FOUND", details: `Session '${unknown}' not found` });
  });

  it("mode names are limited on Send too", async () => {
    const envelope = sessionStart({ sessionId: newSessionId(), participants: [FUZZER], mode: `${ModeId.Decision}${"x".repeat(IDENTIFIER_LIMITS.mode)}` });
    expect(ackCode(await sendAck(client, envelope))).toBe("INVALID_ENVELOPE");
  });
});
