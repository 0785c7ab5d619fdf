/**
 * The closed set of MACP error codes (RFC-MACP-0001 error registry) that may appear in
 * `MACPError.code`. `UNAUTHORIZED` is the deprecated alias of `FORBIDDEN`; it is accepted when
 * decoding but never produced.
 */
export const MACP_ERROR_CODES = [
  "UNSUPPORTED_PROTOCOL_VERSION",
  "INVALID_ENVELOPE",
  "INVALID_SESSION_ID",
  "SESSION_ALREADY_EXISTS",
  "SESSION_NOT_FOUND",
  "SESSION_NOT_OPEN",
  "MODE_NOT_SUPPORTED",
  "FORBIDDEN",
  "UNAUTHORIZED",
  "UNAUTHENTICATED",
  "DUPLICATE_MESSAGE",
  "PAYLOAD_TOO_LARGE",
  "RATE_LIMITED",
  "INTERNAL_ERROR",
  "UNKNOWN_POLICY_VERSION",
  "POLICY_DENIED",
  "INVALID_POLICY_DEFINITION",
] as const;

/** One of the spec's error codes. */
export type MacpErrorCode = (typeof MACP_ERROR_CODES)[number];

/**
 * The runtime's internal error kind, reported as `MACPError.message` on Acks (reference-runtime
 * compatible: clients match on these names).
 */
export type MacpErrorVariant =
  | "InvalidMacpVersion"
  | "InvalidEnvelope"
  | "InvalidTtl"
  | "InvalidPayload"
  | "InvalidModeState"
  | "SessionAlreadyExists"
  | "UnknownSession"
  | "SessionNotOpen"
  | "TtlExpired"
  | "UnknownMode"
  | "Forbidden"
  | "Unauthenticated"
  | "DuplicateMessage"
  | "PayloadTooLarge"
  | "RateLimited"
  | "StorageFailed"
  | "InvalidSessionId"
  | "UnknownPolicyVersion"
  | "PolicyDenied"
  | "InvalidPolicyDefinition"
  | EdgeErrorVariant;

/**
 * Error kinds that only RPC edges raise, never the kernel and never an Ack: the "direct statuses"
 * the reference runtime answers outside its error enum (wire.md §5.6), each with the registry code
 * nearest to its meaning so clients can still switch on a code.
 */
export type EdgeErrorVariant =
  /** A malformed RPC request (INVALID_ARGUMENT), e.g. `INVALID_REQUEST: …` or a StreamSession frame that breaks the stream's rules. */
  | "InvalidRequest"
  /** GetSession, Cancel/Suspend/ResumeSession or a subscribe frame naming no session (NOT_FOUND). */
  | "SessionNotFound"
  /** GetPolicy naming no registered policy (NOT_FOUND). */
  | "PolicyNotFound"
  /** GetManifest naming an agent this runtime is not (NOT_FOUND). */
  | "AgentNotFound"
  /** A StreamSession subscriber that fell behind the live buffer (RESOURCE_EXHAUSTED). */
  | "StreamLagged";

const VARIANT_CODE: Record<MacpErrorVariant, MacpErrorCode> = {
  InvalidMacpVersion: "UNSUPPORTED_PROTOCOL_VERSION",
  InvalidEnvelope: "INVALID_ENVELOPE",
  InvalidTtl: "INVALID_ENVELOPE",
  InvalidPayload: "INVALID_ENVELOPE",
  InvalidModeState: "INVALID_ENVELOPE",
  SessionAlreadyExists: "SESSION_ALREADY_EXISTS",
  UnknownSession: "SESSION_NOT_FOUND",
  SessionNotOpen: "SESSION_NOT_OPEN",
  TtlExpired: "SESSION_NOT_OPEN",
  UnknownMode: "MODE_NOT_SUPPORTED",
  Forbidden: "FORBIDDEN",
  Unauthenticated: "UNAUTHENTICATED",
  DuplicateMessage: "DUPLICATE_MESSAGE",
  PayloadTooLarge: "PAYLOAD_TOO_LARGE",
  RateLimited: "RATE_LIMITED",
  StorageFailed: "INTERNAL_ERROR",
  InvalidSessionId: "INVALID_SESSION_ID",
  UnknownPolicyVersion: "UNKNOWN_POLICY_VERSION",
  PolicyDenied: "POLICY_DENIED",
  InvalidPolicyDefinition: "INVALID_POLICY_DEFINITION",
  InvalidRequest: "INVALID_ENVELOPE",
  SessionNotFound: "SESSION_NOT_FOUND",
  PolicyNotFound: "UNKNOWN_POLICY_VERSION",
  AgentNotFound: "INVALID_ENVELOPE",
  StreamLagged: "RATE_LIMITED",
};

const DEFAULT_VARIANT: Record<MacpErrorCode, MacpErrorVariant> = {
  UNSUPPORTED_PROTOCOL_VERSION: "InvalidMacpVersion",
  INVALID_ENVELOPE: "InvalidEnvelope",
  INVALID_SESSION_ID: "InvalidSessionId",
  SESSION_ALREADY_EXISTS: "SessionAlreadyExists",
  SESSION_NOT_FOUND: "UnknownSession",
  SESSION_NOT_OPEN: "SessionNotOpen",
  MODE_NOT_SUPPORTED: "UnknownMode",
  FORBIDDEN: "Forbidden",
  UNAUTHORIZED: "Forbidden",
  UNAUTHENTICATED: "Unauthenticated",
  DUPLICATE_MESSAGE: "DuplicateMessage",
  PAYLOAD_TOO_LARGE: "PayloadTooLarge",
  RATE_LIMITED: "RateLimited",
  INTERNAL_ERROR: "StorageFailed",
  UNKNOWN_POLICY_VERSION: "UnknownPolicyVersion",
  POLICY_DENIED: "PolicyDenied",
  INVALID_POLICY_DEFINITION: "InvalidPolicyDefinition",
};

/** Structured error details; `reasons` carries policy deny reasons for `POLICY_DENIED`. */
export interface MacpErrorDetails {
  readonly reasons?: readonly string[];
  readonly [key: string]: unknown;
}

/**
 * The one error class of macp-ts. `code` is a spec registry code, `variant` the runtime error
 * kind (what the reference runtime reports in `MACPError.message`), `message` human text and
 * `cause` (ES2022) the underlying failure, never sent to clients. Each edge (gRPC, HTTP, NATS)
 * maps it exactly once.
 */
export class MacpError extends Error {
  readonly code: MacpErrorCode;
  readonly variant: MacpErrorVariant;
  readonly details: MacpErrorDetails | undefined;

  constructor(variant: MacpErrorVariant, message?: string, details?: MacpErrorDetails, options?: ErrorOptions) {
    super(message ?? variant, options);
    this.name = "MacpError";
    this.variant = variant;
    this.code = VARIANT_CODE[variant];
    this.details = details;
  }

  /** Builds an error from a registry code, using that code's canonical variant. */
  static fromCode(code: MacpErrorCode, message?: string, details?: MacpErrorDetails, options?: ErrorOptions): MacpError {
    return new MacpError(DEFAULT_VARIANT[code], message, details, options);
  }

  /** `POLICY_DENIED` with the evaluator's reasons, in order. */
  static policyDenied(reasons: readonly string[]): MacpError {
    const text = reasons.length > 0 ? `PolicyDenied: ${reasons.join("; ")}` : "PolicyDenied";
    return new MacpError("PolicyDenied", text, { reasons: [...reasons] });
  }

  /** The bytes carried in `MACPError.details`: JSON for policy denials, empty otherwise. */
  detailsBytes(): Uint8Array {
    if (this.code !== "POLICY_DENIED") return new Uint8Array();
    return new TextEncoder().encode(JSON.stringify({ reasons: this.details?.reasons ?? [] }));
  }
}

/** True when `value` is one of the spec's error codes. */
export function isMacpErrorCode(value: string): value is MacpErrorCode {
  return (MACP_ERROR_CODES as readonly string[]).includes(value);
}

/** gRPC status codes used by MACP (numeric values of the gRPC spec, transport-independent). */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAUTHENTICATED: 16,
} as const;

/** A numeric gRPC status code. */
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const CODE_STATUS: Record<MacpErrorCode, GrpcStatusCode> = {
  UNSUPPORTED_PROTOCOL_VERSION: GrpcStatus.FAILED_PRECONDITION,
  INVALID_ENVELOPE: GrpcStatus.FAILED_PRECONDITION,
  INVALID_SESSION_ID: GrpcStatus.INVALID_ARGUMENT,
  SESSION_ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  SESSION_NOT_FOUND: GrpcStatus.FAILED_PRECONDITION,
  SESSION_NOT_OPEN: GrpcStatus.FAILED_PRECONDITION,
  MODE_NOT_SUPPORTED: GrpcStatus.FAILED_PRECONDITION,
  FORBIDDEN: GrpcStatus.PERMISSION_DENIED,
  UNAUTHORIZED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  DUPLICATE_MESSAGE: GrpcStatus.FAILED_PRECONDITION,
  PAYLOAD_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  RATE_LIMITED: GrpcStatus.RESOURCE_EXHAUSTED,
  INTERNAL_ERROR: GrpcStatus.INTERNAL,
  UNKNOWN_POLICY_VERSION: GrpcStatus.FAILED_PRECONDITION,
  POLICY_DENIED: GrpcStatus.FAILED_PRECONDITION,
  INVALID_POLICY_DEFINITION: GrpcStatus.INVALID_ARGUMENT,
};

/** The gRPC status a MACP error code maps to when it surfaces as a status (protocol.md §3.2). */
export function grpcStatusForCode(code: MacpErrorCode): GrpcStatusCode {
  return CODE_STATUS[code];
}

/** Edge variants whose status differs from their code's (protocol.md §3.3, §4.3, §4.7, §4.11). */
const EDGE_STATUS: Readonly<Record<EdgeErrorVariant, GrpcStatusCode>> = {
  InvalidRequest: GrpcStatus.INVALID_ARGUMENT,
  SessionNotFound: GrpcStatus.NOT_FOUND,
  PolicyNotFound: GrpcStatus.NOT_FOUND,
  AgentNotFound: GrpcStatus.NOT_FOUND,
  StreamLagged: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** The gRPC status an error surfaces as: its edge variant's status, else its code's. */
export function grpcStatusOf(error: MacpError): GrpcStatusCode {
  return Object.hasOwn(EDGE_STATUS, error.variant)
    ? EDGE_STATUS[error.variant as EdgeErrorVariant]
    : grpcStatusForCode(error.code);
}
