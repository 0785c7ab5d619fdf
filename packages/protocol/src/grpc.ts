/**
 * `@macp/protocol/grpc`: the `macp.v1.MACPRuntimeService` service bound to `@grpc/grpc-js`
 * (service definition, server implementation type, client constructor). A separate entry point so
 * the pure packages never load grpc-js; import it only where a gRPC server or channel is built.
 *
 * @example
 * ```ts
 * import { Server } from "@grpc/grpc-js";
 * import { MACPRuntimeServiceService } from "@macp/protocol/grpc";
 *
 * const server = new Server();
 * server.addService(MACPRuntimeServiceService, implementation);
 * ```
 *
 * @module @macp/protocol/grpc
 */
import {
  makeGenericClientConstructor,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type Metadata,
  type MethodDefinition,
  type UntypedServiceImplementation,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type requestCallback,
} from "@grpc/grpc-js";
import { MACPRuntimeServiceDefinition } from "./gen/macp/v1/core.js";

type Methods = (typeof MACPRuntimeServiceDefinition)["methods"];

/** The lowerCamelCase name of one RPC of `macp.v1.MACPRuntimeService`, e.g. `"streamSession"`. */
export type MACPRuntimeServiceMethod = keyof Methods;

type MessageOf<Codec> = Codec extends { decode(input: Uint8Array): infer Message } ? Message : never;

/** The request message type of an RPC. */
export type RpcRequest<K extends MACPRuntimeServiceMethod> = MessageOf<Methods[K]["requestType"]>;

/** The response message type of an RPC. */
export type RpcResponse<K extends MACPRuntimeServiceMethod> = MessageOf<Methods[K]["responseType"]>;

/**
 * The grpc-js definition of every RPC, keyed by method name, with literal streaming flags so the
 * call kind of each method is known at compile time.
 */
export type MACPRuntimeServiceService = {
  readonly [K in MACPRuntimeServiceMethod]: MethodDefinition<RpcRequest<K>, RpcResponse<K>> & {
    readonly requestStream: Methods[K]["requestStream"];
    readonly responseStream: Methods[K]["responseStream"];
  };
};

interface Codec {
  encode(message: never): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
}

function grpcMethod(method: { name: string; requestType: Codec; responseType: Codec; requestStream: boolean; responseStream: boolean }) {
  const request = method.requestType;
  const response = method.responseType;
  return {
    path: `/${MACPRuntimeServiceDefinition.fullName}/${method.name}`,
    requestStream: method.requestStream,
    responseStream: method.responseStream,
    requestSerialize: (value: never): Buffer => Buffer.from(request.encode(value).finish()),
    requestDeserialize: (bytes: Buffer): unknown => request.decode(bytes),
    responseSerialize: (value: never): Buffer => Buffer.from(response.encode(value).finish()),
    responseDeserialize: (bytes: Buffer): unknown => response.decode(bytes),
  };
}

/** The service definition to pass to `Server.addService` (paths `/macp.v1.MACPRuntimeService/<Rpc>`). */
export const MACPRuntimeServiceService: MACPRuntimeServiceService = Object.fromEntries(
  Object.entries(MACPRuntimeServiceDefinition.methods).map(([key, method]) => [key, grpcMethod(method as Parameters<typeof grpcMethod>[0])]),
) as unknown as MACPRuntimeServiceService;

type Handler<K extends MACPRuntimeServiceMethod> = Methods[K]["requestStream"] extends true
  ? Methods[K]["responseStream"] extends true
    ? handleBidiStreamingCall<RpcRequest<K>, RpcResponse<K>>
    : handleClientStreamingCall<RpcRequest<K>, RpcResponse<K>>
  : Methods[K]["responseStream"] extends true
    ? handleServerStreamingCall<RpcRequest<K>, RpcResponse<K>>
    : handleUnaryCall<RpcRequest<K>, RpcResponse<K>>;

/** A server implementation of the service: one grpc-js handler per RPC. */
export type MACPRuntimeServiceServer = { [K in MACPRuntimeServiceMethod]: Handler<K> } & UntypedServiceImplementation;

/** A unary RPC on the generated client, in grpc-js's callback style. */
export interface UnaryRpc<Request, Response> {
  (request: Request, callback: requestCallback<Response>): ClientUnaryCall;
  (request: Request, metadata: Metadata, callback: requestCallback<Response>): ClientUnaryCall;
  (request: Request, metadata: Metadata, options: Partial<CallOptions>, callback: requestCallback<Response>): ClientUnaryCall;
}

/** A server-streaming RPC on the generated client. */
export interface ServerStreamingRpc<Request, Response> {
  (request: Request, options?: Partial<CallOptions>): ClientReadableStream<Response>;
  (request: Request, metadata?: Metadata, options?: Partial<CallOptions>): ClientReadableStream<Response>;
}

/** A client-streaming RPC on the generated client. */
export interface ClientStreamingRpc<Request, Response> {
  (callback: requestCallback<Response>): ClientWritableStream<Request>;
  (metadata: Metadata, callback: requestCallback<Response>): ClientWritableStream<Request>;
  (options: Partial<CallOptions>, callback: requestCallback<Response>): ClientWritableStream<Request>;
  (metadata: Metadata, options: Partial<CallOptions>, callback: requestCallback<Response>): ClientWritableStream<Request>;
}

/** A bidirectional-streaming RPC on the generated client. */
export interface BidiStreamingRpc<Request, Response> {
  (options?: Partial<CallOptions>): ClientDuplexStream<Request, Response>;
  (metadata: Metadata, options?: Partial<CallOptions>): ClientDuplexStream<Request, Response>;
}

type ClientRpc<K extends MACPRuntimeServiceMethod> = Methods[K]["requestStream"] extends true
  ? Methods[K]["responseStream"] extends true
    ? BidiStreamingRpc<RpcRequest<K>, RpcResponse<K>>
    : ClientStreamingRpc<RpcRequest<K>, RpcResponse<K>>
  : Methods[K]["responseStream"] extends true
    ? ServerStreamingRpc<RpcRequest<K>, RpcResponse<K>>
    : UnaryRpc<RpcRequest<K>, RpcResponse<K>>;

/** A grpc-js client of the service: a `Client` with one method per RPC. */
export type MACPRuntimeServiceClient = Client & { readonly [K in MACPRuntimeServiceMethod]: ClientRpc<K> };

/** The constructor of {@link MACPRuntimeServiceClient}. */
export interface MACPRuntimeServiceClientConstructor {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): MACPRuntimeServiceClient;
  readonly service: MACPRuntimeServiceService;
  readonly serviceName: string;
}

/** Opens a channel to a runtime: `new MACPRuntimeServiceClient("127.0.0.1:50051", credentials.createInsecure())`. */
export const MACPRuntimeServiceClient = makeGenericClientConstructor(
  MACPRuntimeServiceService,
  MACPRuntimeServiceDefinition.fullName,
) as unknown as MACPRuntimeServiceClientConstructor;
