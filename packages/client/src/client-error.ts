import { Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { MacpError, isMacpErrorCode, type MacpErrorCode, type MacpErrorVariant } from "@macp/protocol";

/** Binary trailer in which the runtime puts JSON error details (`{"reasons": [...]}` on POLICY_DENIED). */
export const ERROR_DETAILS_TRAILER = "macp-error-details-bin";

/** A failed RPC: its gRPC status plus, when the runtime said so, the MACP error code. */
export class MacpClientError extends Error {
  /** Numeric gRPC status code (`grpc.status`). */
  readonly grpcCode: GrpcStatus;
  /** The status message as sent by the server. */
  readonly details: string;
  /** Registry code, from the `macp-error-details-bin` trailer or the message's code/variant prefix. */
  readonly macpCode: MacpErrorCode | undefined;
  /** Policy deny reasons from the details trailer, in order. */
  readonly reasons: readonly string[] | undefined;
  /** Response trailers, when the server sent any. */
  readonly trailers: Metadata | undefined;

  constructor(grpcCode: GrpcStatus, details: string, trailers?: Metadata) {
    super(`${GrpcStatus[grpcCode] ?? grpcCode}: ${details}`);
    this.name = "MacpClientError";
    this.grpcCode = grpcCode;
    this.details = details;
    this.trailers = trailers;
    const fromTrailer = trailerDetails(trailers);
    this.reasons = fromTrailer?.reasons;
    this.macpCode = fromTrailer?.code ?? codeFromMessage(details);
  }

  /** Converts a grpc-js call error; anything else (never expected) becomes INTERNAL. */
  static from(error: unknown): MacpClientError {
    if (error instanceof MacpClientError) return error;
    if (isServiceError(error)) return new MacpClientError(error.code, error.details, error.metadata);
    return new MacpClientError(GrpcStatus.INTERNAL, error instanceof Error ? error.message : String(error));
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}

// Typed as a full record so the compiler keeps this list in step with the protocol's variants.
const VARIANTS: Readonly<Record<MacpErrorVariant, true>> = {
  InvalidMacpVersion: true,
  InvalidEnvelope: true,
  InvalidTtl: true,
  InvalidPayload: true,
  InvalidModeState: true,
  SessionAlreadyExists: true,
  UnknownSession: true,
  SessionNotOpen: true,
  TtlExpired: true,
  UnknownMode: true,
  Forbidden: true,
  Unauthenticated: true,
  DuplicateMessage: true,
  PayloadTooLarge: true,
  RateLimited: true,
  StorageFailed: true,
  InvalidSessionId: true,
  UnknownPolicyVersion: true,
  PolicyDenied: true,
  InvalidPolicyDefinition: true,
};

function isVariant(word: string): word is MacpErrorVariant {
  return Object.hasOwn(VARIANTS, word);
}

/**
 * The runtime prefixes status messages with a registry code (`FORBIDDEN: session access denied`)
 * or states a variant name (`Unauthenticated`, `PolicyDenied: r1; r2`).
 */
function codeFromMessage(details: string): MacpErrorCode | undefined {
  const word = /^([A-Za-z_]+)(?::|$)/.exec(details)?.[1];
  if (word === undefined) return undefined;
  if (isMacpErrorCode(word)) return word;
  return isVariant(word) ? new MacpError(word).code : undefined;
}

function trailerDetails(trailers: Metadata | undefined): { code?: MacpErrorCode; reasons?: string[] } | undefined {
  const raw = trailers?.get(ERROR_DETAILS_TRAILER)[0];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { code, reasons } = parsed as { code?: unknown; reasons?: unknown };
  const validReasons = Array.isArray(reasons) && reasons.every((r) => typeof r === "string") ? (reasons as string[]) : undefined;
  const validCode = typeof code === "string" && isMacpErrorCode(code) ? code : undefined;
  return {
    code: validCode ?? (validReasons !== undefined ? "POLICY_DENIED" : undefined),
    reasons: validReasons,
  };
}
