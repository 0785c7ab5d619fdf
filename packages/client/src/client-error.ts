import { Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { decodeErrorTrailers, type MacpErrorCode } from "@macp/protocol";

/** A failed RPC: its gRPC status plus, when the runtime said so, the MACP error code. */
export class MacpClientError extends Error {
  /** Numeric gRPC status code (`grpc.status`). */
  readonly grpcCode: GrpcStatus;
  /** The status message as sent by the server. */
  readonly details: string;
  /**
   * Registry code from the `macp-error-code` trailer (`POLICY_DENIED` when only the
   * `macp-error-details-bin` trailer came, as from the reference runtime); undefined when the
   * server sent neither, e.g. for transport failures.
   */
  readonly macpCode: MacpErrorCode | undefined;
  /** Policy deny reasons from the details trailer, in order. */
  readonly reasons: readonly string[] | undefined;
  /** Response trailers, when the server sent any. */
  readonly trailers: Metadata | undefined;

  constructor(grpcCode: GrpcStatus, details: string, trailers?: Metadata, options?: ErrorOptions) {
    super(`${GrpcStatus[grpcCode] ?? grpcCode}: ${details}`, options);
    this.name = "MacpClientError";
    this.grpcCode = grpcCode;
    this.details = details;
    this.trailers = trailers;
    const decoded = decodeErrorTrailers(trailers);
    this.macpCode = decoded.code;
    this.reasons = decoded.reasons;
  }

  /** Converts a grpc-js call error (kept as `cause`); anything else (never expected) becomes INTERNAL. */
  static from(error: unknown): MacpClientError {
    if (error instanceof MacpClientError) return error;
    if (isServiceError(error)) return new MacpClientError(error.code, error.details, error.metadata, { cause: error });
    return new MacpClientError(GrpcStatus.INTERNAL, error instanceof Error ? error.message : String(error), undefined, { cause: error });
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}
