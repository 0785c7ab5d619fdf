import { Metadata, status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { MacpError, grpcStatusForCode } from "@macp/protocol";

/** Trailer carrying JSON policy-denial details (wire.md §4.5). */
export const ERROR_DETAILS_TRAILER = "macp-error-details-bin";

/** A gRPC status error with the given code and message. */
export function statusError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata });
}

/**
 * The one mapping of MacpError to a gRPC status (protocol.md §3.2). `override` is for the RPCs
 * whose spec answers differently from the default table (e.g. NOT_FOUND for unknown sessions).
 */
export function macpStatusError(error: MacpError, override?: status): ServiceError {
  const metadata = new Metadata();
  if (error.code === "POLICY_DENIED") metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(error.detailsBytes()));
  return statusError(override ?? (grpcStatusForCode(error.code) as number as status), error.message, metadata);
}

/** Normalises anything thrown inside a handler to a status error, never leaking internals. */
export function toStatusError(error: unknown): ServiceError {
  if (error instanceof MacpError) return macpStatusError(error);
  if (isServiceError(error)) return error;
  return statusError(status.INTERNAL, "internal error");
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number";
}
