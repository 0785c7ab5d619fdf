/**
 * A typed gRPC client for the MACP runtime (`macp.v1.MACPRuntimeService`): promise methods for
 * unary RPCs, async iterables for server streams, a duplex handle for `StreamSession`, and
 * envelope builders.
 *
 * @module @macp/client
 */
export { createMacpClient, systemEnvelopeContext } from "./client.js";
export type { CallOptions, MacpClient, MacpClientOptions, RequestInput } from "./client.js";
export type { ClientAuth } from "./call-metadata.js";
export { MacpClientError } from "./client-error.js";
export { buildEnvelope, buildSessionStart, buildSignal } from "./envelope-builders.js";
export type { EnvelopeContext, EnvelopeFields, SessionStartFields, SessionStartInput, SignalFields } from "./envelope-builders.js";
export type { ResponseStream } from "./response-stream.js";
export type { SessionStream } from "./session-stream.js";
