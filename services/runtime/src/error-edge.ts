import { Metadata } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import {
  MACPError,
  MAX_ECHOED_ID_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MacpError,
  boundText,
  encodeErrorTrailers,
  grpcStatusOf,
} from "@macp/protocol";

/**
 * The runtime's one error edge: every gRPC status, Ack error and inline StreamSession error frame
 * is built here from a MacpError, through the protocol's tables, and every client-chosen text it
 * echoes is bounded here.
 */

/** A client-chosen identifier as echoed in an Ack or error frame. */
export function echoId(id: string): string {
  return boundText(id, MAX_ECHOED_ID_BYTES);
}

/** The gRPC status of `error`: code from the protocol's table, bounded message, error trailers. */
export function statusOf(error: MacpError): ServiceError {
  const metadata = new Metadata();
  for (const { key, value } of encodeErrorTrailers(error)) {
    metadata.set(key, typeof value === "string" ? value : Buffer.from(value));
  }
  const details = boundText(error.message, MAX_ERROR_MESSAGE_BYTES);
  return Object.assign(new Error(details), { code: grpcStatusOf(error) as number, details, metadata });
}

/**
 * `error` as a MacpError: itself, or an internal error whose `cause` keeps the original (never
 * sent to the client).
 */
export function asMacpError(error: unknown): MacpError {
  return error instanceof MacpError ? error : new MacpError("StorageFailed", "internal error", undefined, { cause: error });
}

/** Anything thrown inside a handler as one status, never leaking internals. */
export function toStatusError(error: unknown): ServiceError {
  return statusOf(asMacpError(error));
}

/** The wire error object of an Ack: registry code, runtime variant name, echoed ids. */
export function ackError(error: MacpError, sessionId: string, messageId: string): MACPError {
  return MACPError.fromPartial({
    code: error.code,
    message: error.variant,
    sessionId: echoId(sessionId),
    messageId: echoId(messageId),
    details: error.detailsBytes(),
  });
}

/**
 * An inline StreamSession error frame: the registry code and a readable message (spec README
 * decision 7), bounded like a status message.
 */
export function inlineError(error: MacpError, sessionId: string): MACPError {
  const text = error.message === error.variant ? error.variant : `${error.variant}: ${error.message}`;
  return MACPError.fromPartial({
    code: error.code,
    message: boundText(text, MAX_ERROR_MESSAGE_BYTES),
    sessionId: echoId(sessionId),
    messageId: "",
    details: error.detailsBytes(),
  });
}

/**
 * A registry mutator's response with its `error` text bounded like a status message: it may
 * quote names and rule paths the client chose (protocol.md §4.8, §4.11).
 */
export function registryOutcome<T extends { readonly error: string }>(response: T): T {
  return { ...response, error: boundText(response.error, MAX_ERROR_MESSAGE_BYTES) };
}
