export {
  MACP_ERROR_CODES,
  MacpError,
  isMacpErrorCode,
  GrpcStatus,
  grpcStatusForCode,
} from "./errors.js";
export type {
  MacpErrorCode,
  MacpErrorVariant,
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
