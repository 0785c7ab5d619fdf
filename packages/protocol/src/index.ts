/**
 * The MACP wire layer: generated protobuf types, payload and envelope codecs, constants and the
 * one error class {@link MacpError}. The gRPC service binding is the separate `@macp/protocol/grpc`
 * entry point.
 *
 * @module @macp/protocol
 */
export {
  MACP_ERROR_CODES,
  MacpError,
  isMacpErrorCode,
  GrpcStatus,
  grpcStatusForCode,
  grpcStatusOf,
} from "./errors.js";
export type {
  MacpErrorCode,
  MacpErrorVariant,
  EdgeErrorVariant,
  MacpErrorDetails,
  GrpcStatusCode,
} from "./errors.js";
export {
  PROTOCOL_VERSION,
  BUILTIN_MODE_VERSION,
  ModeId,
  STANDARD_MODE_IDS,
  RESERVED_MODE_PREFIX,
  CoreMessageType,
  DEFAULT_POLICY_ID,
  RUNTIME_SENDER,
  MAX_TTL_MS,
  MAX_SUSPEND_MS,
  MAX_PARTICIPANTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  BUILTIN_SCHEMA_URIS,
  MediaType,
  GRPC_TRANSPORT_ID,
} from "./constants.js";
export { isValidSessionId } from "./session-id.js";
export { isBlank, trimWhiteSpace, compareCodePoints } from "./text.js";
export { IDENTIFIER_LIMITS, identifierLengthError } from "./identifier-limits.js";
export type { IdentifierKind } from "./identifier-limits.js";
export { MAX_ERROR_MESSAGE_BYTES, MAX_ECHOED_ID_BYTES, boundText } from "./bounded-text.js";
export { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER, encodeErrorTrailers, decodeErrorTrailers } from "./error-trailers.js";
export type { ErrorTrailer, TrailerSource, DecodedErrorTrailers } from "./error-trailers.js";
export * from "./wire-types.js";
export {
  payloadTypeName,
  decodePayload,
  decodeSessionStart,
  decodeCommitment,
  decodeSignal,
  decodeProgress,
  encodePayload,
  encodePayloadJson,
} from "./payload-codec.js";
export { decodeContribute, encodeContributeProto } from "./contribute-payload.js";
export type { ContributeValue } from "./contribute-payload.js";
export { encodeEnvelope, decodeEnvelope } from "./envelope-codec.js";
export { INT64_MIN, INT64_MAX, UINT64_MAX, int64ToJson, int64FromJson, int64JsonReplacer } from "./int64-json.js";
