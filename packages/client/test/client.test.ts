import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerDuplexStream,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { MACPRuntimeServiceService, type MACPRuntimeServiceServer } from "@macp/protocol/grpc";
import {
  MacpError,
  encodeErrorTrailers,
  SessionLifecycleEvent_EventType,
  SessionState,
  type Envelope,
  type StreamSessionRequest,
  type StreamSessionResponse,
  type WatchSessionsRequest,
  type WatchSessionsResponse,
} from "@macp/protocol";
import { EventEmitter, once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MacpClientError, buildEnvelope, createMacpClient, type MacpClient } from "../src/index.js";

function signal(): { promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** What the fake runtime saw, so tests can assert on requests and cancellations. */
const seen = {
  metadata: [] as Metadata[],
  listPoliciesModes: [] as string[],
  watchCancelled: signal(),
  streamCancelled: signal(),
  /** Emits `cancelled` whenever a WatchModeRegistry call is cancelled by its client. */
  registryWatches: new EventEmitter(),
};

/** A status as the runtime sends it: the error's message plus the protocol's error trailers. */
function fail(code: status, error: MacpError) {
  const metadata = new Metadata();
  for (const { key, value } of encodeErrorTrailers(error)) metadata.set(key, typeof value === "string" ? value : Buffer.from(value));
  return { code, details: error.message, metadata };
}

const envelope = (messageId: string): Envelope =>
  buildEnvelope({ mode: "macp.mode.decision.v1", messageType: "Proposal", sessionId: "s", payload: new Uint8Array([1]), messageId });

/** A few RPCs of the runtime, enough to exercise every code path of the client. */
const fakeRuntime: Partial<MACPRuntimeServiceServer> = {
  initialize(call, callback) {
    seen.metadata.push(call.metadata);
    callback(null, {
      selectedProtocolVersion: call.request.supportedProtocolVersions[0] ?? "",
      runtimeInfo: undefined,
      capabilities: undefined,
      supportedModes: ["macp.mode.decision.v1"],
      instructions: "",
    });
  },
  send(call, callback) {
    if (call.metadata.get("authorization")[0] !== "Bearer alice") {
      callback(fail(status.UNAUTHENTICATED, new MacpError("Unauthenticated")));
      return;
    }
    const request = call.request.envelope;
    callback(null, {
      ack: {
        ok: true,
        duplicate: false,
        messageId: request?.messageId ?? "",
        sessionId: request?.sessionId ?? "",
        acceptedAtUnixMs: 1n,
        sessionState: SessionState.SESSION_STATE_OPEN,
        error: undefined,
      },
    });
  },
  getSession(call, callback) {
    callback(fail(status.PERMISSION_DENIED, new MacpError("Forbidden", "FORBIDDEN: session access denied")));
  },
  cancelSession(call, callback) {
    // As the reference runtime answers: only the details trailer, no code trailer.
    const trailers = new Metadata();
    trailers.set("macp-error-details-bin", Buffer.from(JSON.stringify({ reasons: ["r1", "r2"] })));
    callback({ code: status.FAILED_PRECONDITION, details: "PolicyDenied: r1; r2", metadata: trailers });
  },
  listModes() {
    // Never answers: exercises deadlines and cancellation.
  },
  watchModeRegistry(call) {
    // Never writes, never ends: only the client can finish it.
    call.on("cancelled", () => seen.registryWatches.emit("cancelled"));
  },
  listPolicies(call, callback) {
    seen.listPoliciesModes.push(call.request.mode);
    callback(null, { descriptors: [] });
  },
  watchSessions(call: ServerWritableStream<WatchSessionsRequest, WatchSessionsResponse>) {
    call.on("cancelled", () => seen.watchCancelled.resolve());
    for (let i = 1; i <= 3; i += 1) {
      call.write({ event: { eventType: SessionLifecycleEvent_EventType.EVENT_TYPE_CREATED, session: undefined, observedAtUnixMs: BigInt(i) } });
    }
  },
  watchSignals(call) {
    call.write({ envelope: envelope("sig-1") });
    call.write({ envelope: envelope("sig-2") });
    call.end();
  },
  watchRoots(call) {
    call.write({ change: { observedAtUnixMs: 7n } });
    call.emit("error", fail(status.RESOURCE_EXHAUSTED, new MacpError("RateLimited")));
  },
  watchPolicies(call) {
    for (let i = 0; i < 500; i += 1) call.write({ descriptors: [], observedAtUnixMs: BigInt(i) });
    call.end();
  },
  streamSession(call: ServerDuplexStream<StreamSessionRequest, StreamSessionResponse>) {
    call.on("cancelled", () => seen.streamCancelled.resolve());
    call.on("data", (frame: StreamSessionRequest) => {
      if (frame.envelope !== undefined) {
        call.write({ response: { $case: "envelope", value: frame.envelope } });
      } else {
        call.write({
          response: {
            $case: "error",
            value: { code: "SessionNotOpen", message: "SessionNotOpen", sessionId: frame.subscribeSessionId, messageId: "", details: new Uint8Array() },
          },
        });
      }
    });
    call.on("end", () => call.end());
  },
};

let server: Server;
let address: string;
let client: MacpClient;

beforeAll(async () => {
  server = new Server();
  server.addService(MACPRuntimeServiceService, fakeRuntime as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
  client = createMacpClient({ address, auth: { bearer: "alice" }, defaultDeadlineMs: 5000 });
  await client.waitForReady();
});

afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));

});

async function rejection(promise: Promise<unknown>): Promise<MacpClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof MacpClientError)) throw new Error(`expected a MacpClientError, got ${String(error)}`);
  return error;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe("unary calls", () => {
  it("offers protocol version 1.0 by default and sends the configured bearer", async () => {
    const response = await client.initialize();
    expect(response.selectedProtocolVersion).toBe("1.0");
    expect(seen.metadata.at(-1)?.get("authorization")).toEqual(["Bearer alice"]);
  });

  it("sends no credentials when none are configured", async () => {
    const anonymous = createMacpClient({ address });
    try {
      await anonymous.initialize();
      const metadata = seen.metadata.at(-1);
      expect(["authorization", "x-macp-token", "x-macp-agent-id"].map((key) => metadata?.get(key))).toEqual([[], [], []]);
    } finally {
      anonymous.close();
    }
  });

  it("sends x-macp-token and x-macp-agent-id when asked, per call", async () => {
    await client.initialize({}, { auth: { token: "tok", agentId: "bob" } });
    const metadata = seen.metadata.at(-1);
    expect(metadata?.get("authorization")).toEqual([]);
    expect(metadata?.get("x-macp-token")).toEqual(["tok"]);
    expect(metadata?.get("x-macp-agent-id")).toEqual(["bob"]);
  });

  it("returns the runtime's Ack for Send", async () => {
    const { ack } = await client.send({ envelope: envelope("m-1") });
    expect(ack).toMatchObject({ ok: true, messageId: "m-1", sessionId: "s", sessionState: SessionState.SESSION_STATE_OPEN });
  });

  it("fills request fields left out with protobuf defaults", async () => {
    await client.listPolicies();
    await client.listPolicies({ mode: "macp.mode.task.v1" });
    expect(seen.listPoliciesModes.slice(-2)).toEqual(["", "macp.mode.task.v1"]);
  });

  it.each<[string, () => Promise<unknown>, Partial<MacpClientError>]>([
    ["the code trailer", () => client.send({ envelope: envelope("m") }, { auth: { bearer: "mallory" } }), { grpcCode: status.UNAUTHENTICATED, details: "Unauthenticated", macpCode: "UNAUTHENTICATED" }],
    ["the code trailer with a prose message", () => client.getSession({ sessionId: "s" }), { grpcCode: status.PERMISSION_DENIED, details: "FORBIDDEN: session access denied", macpCode: "FORBIDDEN" }],
    ["the details trailer alone", () => client.cancelSession({ sessionId: "s" }), { grpcCode: status.FAILED_PRECONDITION, macpCode: "POLICY_DENIED", reasons: ["r1", "r2"] }],
    ["an unimplemented method", () => client.promoteMode({ mode: "m" }), { grpcCode: status.UNIMPLEMENTED, macpCode: undefined }],
  ])("surfaces a failure carried by %s as MacpClientError", async (_case, call, expected) => {
    expect(await rejection(call())).toMatchObject(expected);
  });

  it("fails with DEADLINE_EXCEEDED once the per-call deadline passes", async () => {
    expect((await rejection(client.listModes({ deadlineMs: 50 }))).grpcCode).toBe(status.DEADLINE_EXCEEDED);
  });

  it("applies the default deadline to unary calls", async () => {
    const impatient = createMacpClient({ address, defaultDeadlineMs: 50 });
    try {
      expect((await rejection(impatient.listModes())).grpcCode).toBe(status.DEADLINE_EXCEEDED);
    } finally {
      impatient.close();
    }
  });

  it("fails with CANCELLED when the AbortSignal fires", async () => {
    const controller = new AbortController();
    const pending = client.listModes({ signal: controller.signal });
    controller.abort();
    expect((await rejection(pending)).grpcCode).toBe(status.CANCELLED);
  });

  it("does not start a call whose signal has already fired", async () => {
    expect((await rejection(client.listModes({ signal: AbortSignal.abort() }))).grpcCode).toBe(status.CANCELLED);
  });
});

describe("server streams", () => {
  it("yields every message and ends when the server ends", async () => {
    const signals = await collect(client.watchSignals());
    expect(signals.map((s) => s.envelope?.messageId)).toEqual(["sig-1", "sig-2"]);
  });

  it("cancels the call when the consumer breaks", async () => {
    const observed: bigint[] = [];
    for await (const { event } of client.watchSessions()) {
      observed.push(event?.observedAtUnixMs ?? 0n);
      if (observed.length === 2) break;
    }
    expect(observed).toEqual([1n, 2n]);
    await seen.watchCancelled.promise;
  });

  it("ends quietly when cancelled while waiting, and cancels the call on the wire", async () => {
    const stream = client.watchModeRegistry();
    const iteration = collect(stream);
    await client.listPolicies(); // the watch is surely established by now
    const cancelled = once(seen.registryWatches, "cancelled");
    stream.cancel();
    expect(await iteration).toEqual([]);
    await cancelled;
  });

  it("releases a call cancelled in the same tick it was started", async () => {
    const cancelled = once(seen.registryWatches, "cancelled");
    client.watchModeRegistry().cancel();
    await cancelled;
  });

  it("fails with CANCELLED when the AbortSignal fires", async () => {
    const controller = new AbortController();
    const stream = client.watchModeRegistry({ signal: controller.signal });
    controller.abort();
    expect((await rejection(collect(stream))).grpcCode).toBe(status.CANCELLED);
  });

  it("yields what arrived, then throws the terminal status", async () => {
    const received: bigint[] = [];
    const error = await rejection(
      (async () => {
        for await (const { change } of client.watchRoots()) received.push(change?.observedAtUnixMs ?? 0n);
      })(),
    );
    expect(received).toEqual([7n]);
    expect(error).toMatchObject({ grpcCode: status.RESOURCE_EXHAUSTED, macpCode: "RATE_LIMITED" });
  });

  it("delivers long streams in order despite flow control", async () => {
    const updates = await collect(client.watchPolicies());
    expect(updates.map((u) => u.observedAtUnixMs)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(i)));
  });

  it("refuses a second iteration of the same stream", () => {
    const stream = client.watchSignals();
    stream[Symbol.asyncIterator]();
    expect(() => stream[Symbol.asyncIterator]()).toThrow("iterated only once");
    stream.cancel();
  });
});

describe("close", () => {
  it("cancels calls in flight: unary calls fail, streams end", async () => {
    const closing = createMacpClient({ address });
    const unary = rejection(closing.listModes());
    const watch = collect(closing.watchModeRegistry());
    await closing.listPolicies();
    const cancelled = once(seen.registryWatches, "cancelled");
    closing.close();
    expect((await unary).grpcCode).toBe(status.CANCELLED);
    expect(await watch).toEqual([]);
    await cancelled;
  });
});

describe("streamSession", () => {
  it("sends envelope and subscribe frames and yields responses until the server ends", async () => {
    const stream = client.streamSession();
    stream.send(envelope("e-1"));
    stream.subscribe("s", 3);
    stream.end();
    const responses = await collect(stream);
    expect(responses.map((r) => r.response?.$case)).toEqual(["envelope", "error"]);
    expect(responses[0]?.response).toMatchObject({ $case: "envelope", value: { messageId: "e-1" } });
    expect(responses[1]?.response).toMatchObject({ $case: "error", value: { code: "SessionNotOpen", sessionId: "s" } });
  });

  it("cancels the call when the consumer breaks, and refuses further frames", async () => {
    const stream = client.streamSession();
    stream.send(envelope("e-1"));
    for await (const response of stream) {
      expect(response.response?.$case).toBe("envelope");
      break;
    }
    await seen.streamCancelled.promise;
    expect(() => stream.send(envelope("e-2"))).toThrow("closed for sending");
  });

  it("refuses frames after end()", () => {
    const stream = client.streamSession();
    stream.end();
    expect(() => stream.subscribe("s")).toThrow("closed for sending");
    stream.cancel();
  });
});
