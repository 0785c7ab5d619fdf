import { randomUUID } from "node:crypto";
import { credentials, status, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { MACPRuntimeServiceClient, MACPRuntimeServiceService } from "@macp/protocol/grpc";
import {
  PROTOCOL_VERSION,
  type CancelSessionResponse,
  type GetManifestResponse,
  type GetPolicyResponse,
  type GetSessionResponse,
  type InitializeRequest,
  type InitializeResponse,
  type ListExtModesResponse,
  type ListModesResponse,
  type ListPoliciesResponse,
  type ListRootsResponse,
  type ListSessionsResponse,
  type PromoteModeResponse,
  type RegisterExtModeResponse,
  type RegisterPolicyResponse,
  type ResumeSessionResponse,
  type SendResponse,
  type SuspendSessionResponse,
  type UnregisterExtModeResponse,
  type UnregisterPolicyResponse,
  type WatchModeRegistryResponse,
  type WatchPoliciesResponse,
  type WatchRootsResponse,
  type WatchSessionsResponse,
  type WatchSignalsResponse,
} from "@macp/protocol";
import { callMetadata, type ClientAuth } from "./call-metadata.js";
import { cancelCall } from "./cancel-call.js";
import { MacpClientError } from "./client-error.js";
import type { EnvelopeContext } from "./envelope-builders.js";
import { responseStream, type ResponseStream } from "./response-stream.js";
import { defaultsOf, withDefaults } from "./message-defaults.js";
import { sessionStream, type SessionStream } from "./session-stream.js";

/** Options of {@link createMacpClient}. */
export interface MacpClientOptions {
  /** `host:port` of the runtime. */
  readonly address: string;
  /** Credentials sent with every call (overridable per call). */
  readonly auth?: ClientAuth;
  /** `true`: TLS with system roots; `{ rootCerts }`: TLS trusting those PEM roots; default plaintext. */
  readonly tls?: boolean | { readonly rootCerts?: Buffer };
  /** Deadline of unary calls without their own; streams never get a default deadline. */
  readonly defaultDeadlineMs?: number;
  /** Passed to the grpc-js channel. */
  readonly channelOptions?: ChannelOptions;
}

/** Per-call options. */
export interface CallOptions {
  /** Fail with DEADLINE_EXCEEDED after this long. */
  readonly deadlineMs?: number;
  /** Cancels the call (it fails with CANCELLED). */
  readonly signal?: AbortSignal;
  /** Speak as someone else for this call only. */
  readonly auth?: ClientAuth;
}

type Service = typeof MACPRuntimeServiceService;
type RequestOf<K extends keyof Service> = ReturnType<Service[K]["requestDeserialize"]>;
type ResponseOf<K extends keyof Service> = ReturnType<Service[K]["responseDeserialize"]>;
type UnaryName = {
  [K in keyof Service]: Service[K]["requestStream"] extends false ? (Service[K]["responseStream"] extends false ? K : never) : never;
}[keyof Service];
type ServerStreamName = {
  [K in keyof Service]: Service[K]["requestStream"] extends false ? (Service[K]["responseStream"] extends true ? K : never) : never;
}[keyof Service];

/** The parts of a method definition the wrapper uses, typed by method name. */
interface MethodDefinition<K extends keyof Service> {
  readonly path: string;
  requestSerialize(value: RequestOf<K>): Buffer;
  requestDeserialize(value: Buffer): RequestOf<K>;
  responseDeserialize(value: Buffer): ResponseOf<K>;
}

function methodDefinition<K extends keyof Service>(name: K): MethodDefinition<K> {
  // Indexing the definition by a generic key loses the per-method types the key determines.
  return MACPRuntimeServiceService[name] as unknown as MethodDefinition<K>;
}

/** A request with any fields left out taking their protobuf defaults. */
export type RequestInput<K extends UnaryName> = Partial<RequestOf<K>>;

/**
 * A typed MACP runtime client: one promise method per unary RPC, an async iterable per
 * server-streaming RPC, and {@link MacpClient.streamSession} for the bidirectional one.
 * Failed calls reject with {@link MacpClientError}; a `Send` the runtime refuses is not a failed
 * call but an Ack with `ok: false`.
 */
export interface MacpClient {
  /** `Initialize`; offers protocol version "1.0" unless told otherwise. */
  initialize(request?: Partial<InitializeRequest>, options?: CallOptions): Promise<InitializeResponse>;
  /** `Send`: one envelope; resolves with the runtime's Ack (`ack.ok` false when the runtime refused it). */
  send(request: RequestInput<"send">, options?: CallOptions): Promise<SendResponse>;
  /** `GetSession`: a session's metadata. */
  getSession(request: RequestInput<"getSession">, options?: CallOptions): Promise<GetSessionResponse>;
  /** `CancelSession`: cancels an open or suspended session (initiator or policy-authorized caller). */
  cancelSession(request: RequestInput<"cancelSession">, options?: CallOptions): Promise<CancelSessionResponse>;
  /** `SuspendSession`: pauses an open session's TTL. */
  suspendSession(request: RequestInput<"suspendSession">, options?: CallOptions): Promise<SuspendSessionResponse>;
  /** `ResumeSession`: resumes a suspended session. */
  resumeSession(request: RequestInput<"resumeSession">, options?: CallOptions): Promise<ResumeSessionResponse>;
  /** `GetManifest`: the runtime's agent manifest. */
  getManifest(request?: RequestInput<"getManifest">, options?: CallOptions): Promise<GetManifestResponse>;
  /** `ListModes`: the standards-track mode descriptors. */
  listModes(options?: CallOptions): Promise<ListModesResponse>;
  /** `ListRoots`: the runtime's roots. */
  listRoots(options?: CallOptions): Promise<ListRootsResponse>;
  /** `ListExtModes`: the extension mode descriptors. */
  listExtModes(options?: CallOptions): Promise<ListExtModesResponse>;
  /** `RegisterExtMode`: registers an extension mode (`ok` false with the reason when refused). */
  registerExtMode(request: RequestInput<"registerExtMode">, options?: CallOptions): Promise<RegisterExtModeResponse>;
  /** `UnregisterExtMode`: removes an extension mode. */
  unregisterExtMode(request: RequestInput<"unregisterExtMode">, options?: CallOptions): Promise<UnregisterExtModeResponse>;
  /** `PromoteMode`: moves an extension mode onto the standards track. */
  promoteMode(request: RequestInput<"promoteMode">, options?: CallOptions): Promise<PromoteModeResponse>;
  /** `ListSessions`: metadata of every session the runtime knows. */
  listSessions(options?: CallOptions): Promise<ListSessionsResponse>;
  /** `RegisterPolicy`: registers a governance policy (`ok` false with the reason when refused). */
  registerPolicy(request: RequestInput<"registerPolicy">, options?: CallOptions): Promise<RegisterPolicyResponse>;
  /** `UnregisterPolicy`: removes a registered policy. */
  unregisterPolicy(request: RequestInput<"unregisterPolicy">, options?: CallOptions): Promise<UnregisterPolicyResponse>;
  /** `GetPolicy`: one policy descriptor. */
  getPolicy(request: RequestInput<"getPolicy">, options?: CallOptions): Promise<GetPolicyResponse>;
  /** `ListPolicies`: every policy, optionally filtered by mode. */
  listPolicies(request?: RequestInput<"listPolicies">, options?: CallOptions): Promise<ListPoliciesResponse>;
  /** `WatchModeRegistry`: an event per mode registry change. */
  watchModeRegistry(options?: CallOptions): ResponseStream<WatchModeRegistryResponse>;
  /** `WatchRoots`: an event per roots change. */
  watchRoots(options?: CallOptions): ResponseStream<WatchRootsResponse>;
  /** `WatchSignals`: every ambient Signal the runtime accepts. */
  watchSignals(options?: CallOptions): ResponseStream<WatchSignalsResponse>;
  /** `WatchSessions`: session lifecycle events (created, resolved, expired, …). */
  watchSessions(options?: CallOptions): ResponseStream<WatchSessionsResponse>;
  /** `WatchPolicies`: an event per policy registry change. */
  watchPolicies(options?: CallOptions): ResponseStream<WatchPoliciesResponse>;
  /** Opens a `StreamSession` call. */
  streamSession(options?: CallOptions): SessionStream;
  /** Resolves once the channel is connected; rejects after `deadlineMs` (default 5 s). */
  waitForReady(deadlineMs?: number): Promise<void>;
  /** Cancels every call in flight (unary calls fail with CANCELLED, streams end) and closes the channel. */
  close(): void;
  /** The underlying generated grpc-js client, for anything this wrapper does not cover. */
  readonly grpcClient: MACPRuntimeServiceClient;
}

/** Fresh UUIDv4 message ids and wall-clock timestamps: the context for envelopes built at the edge. */
export const systemEnvelopeContext: EnvelopeContext = {
  newId: () => randomUUID(),
  now: () => Date.now(),
};

const DEFAULT_READY_DEADLINE_MS = 5000;

/** Creates a client for one runtime address; reuse it, as each client owns a channel. */
export function createMacpClient(options: MacpClientOptions): MacpClient {
  const grpcClient = new MACPRuntimeServiceClient(options.address, channelCredentials(options.tls), options.channelOptions);
  const active = new Set<{ cancel(): void }>();

  function callOptions(call: CallOptions | undefined, deadlineMs: number | undefined) {
    return {
      metadata: callMetadata(call?.auth ?? options.auth),
      grpcOptions: deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
    };
  }

  function unary<K extends UnaryName>(name: K, request: Partial<RequestOf<K>>, call?: CallOptions): Promise<ResponseOf<K>> {
    const definition = methodDefinition(name);
    const { metadata, grpcOptions } = callOptions(call, call?.deadlineMs ?? options.defaultDeadlineMs);
    const signal = call?.signal;
    if (signal?.aborted === true) {
      return Promise.reject(new MacpClientError(status.CANCELLED, "Cancelled before start"));
    }
    return new Promise((resolve, reject) => {
      const handle = { cancel: (): void => cancelCall(pending) };
      const onAbort = handle.cancel;
      const pending = grpcClient.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        withDefaults(defaultsOf(definition.requestDeserialize), request),
        metadata,
        grpcOptions,
        (error, response) => {
          signal?.removeEventListener("abort", onAbort);
          active.delete(handle);
          if (error !== null || response === undefined) reject(MacpClientError.from(error));
          else resolve(response);
        },
      );
      active.add(handle);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  function serverStream<K extends ServerStreamName>(name: K, call?: CallOptions): ResponseStream<ResponseOf<K>> {
    const definition = methodDefinition(name);
    const { metadata, grpcOptions } = callOptions(call, call?.deadlineMs);
    const stream = grpcClient.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      defaultsOf(definition.requestDeserialize),
      metadata,
      grpcOptions,
    );
    return track(stream, responseStream(stream, call?.signal));
  }

  /** Remembers a streaming call until its status arrives, so that `close()` can cancel it. */
  function track<S extends { cancel(): void }>(grpcCall: { on(event: "status", listener: () => void): unknown }, handle: S): S {
    active.add(handle);
    grpcCall.on("status", () => active.delete(handle));
    return handle;
  }

  return {
    grpcClient,
    initialize: (request = {}, call) =>
      unary("initialize", { supportedProtocolVersions: [PROTOCOL_VERSION], ...request }, call),
    send: (request, call) => unary("send", request, call),
    getSession: (request, call) => unary("getSession", request, call),
    cancelSession: (request, call) => unary("cancelSession", request, call),
    suspendSession: (request, call) => unary("suspendSession", request, call),
    resumeSession: (request, call) => unary("resumeSession", request, call),
    getManifest: (request = {}, call) => unary("getManifest", request, call),
    listModes: (call) => unary("listModes", {}, call),
    listRoots: (call) => unary("listRoots", {}, call),
    listExtModes: (call) => unary("listExtModes", {}, call),
    registerExtMode: (request, call) => unary("registerExtMode", request, call),
    unregisterExtMode: (request, call) => unary("unregisterExtMode", request, call),
    promoteMode: (request, call) => unary("promoteMode", request, call),
    listSessions: (call) => unary("listSessions", {}, call),
    registerPolicy: (request, call) => unary("registerPolicy", request, call),
    unregisterPolicy: (request, call) => unary("unregisterPolicy", request, call),
    getPolicy: (request, call) => unary("getPolicy", request, call),
    listPolicies: (request = {}, call) => unary("listPolicies", request, call),
    watchModeRegistry: (call) => serverStream("watchModeRegistry", call),
    watchRoots: (call) => serverStream("watchRoots", call),
    watchSignals: (call) => serverStream("watchSignals", call),
    watchSessions: (call) => serverStream("watchSessions", call),
    watchPolicies: (call) => serverStream("watchPolicies", call),
    streamSession(call) {
      const { metadata, grpcOptions } = callOptions(call, call?.deadlineMs);
      const definition = methodDefinition("streamSession");
      const duplex = grpcClient.makeBidiStreamRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        metadata,
        grpcOptions,
      );
      return track(duplex, sessionStream(duplex, call?.signal));
    },
    waitForReady(deadlineMs = DEFAULT_READY_DEADLINE_MS) {
      return new Promise((resolve, reject) => {
        grpcClient.waitForReady(Date.now() + deadlineMs, (error) => (error === undefined ? resolve() : reject(error)));
      });
    },
    close() {
      // grpc-js lets calls in flight outlive a closed channel; a closed client should not.
      for (const pending of active) pending.cancel();
      active.clear();
      grpcClient.close();
    },
  };
}

function channelCredentials(tls: MacpClientOptions["tls"]): ChannelCredentials {
  if (tls === undefined || tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.rootCerts ?? null);
}
