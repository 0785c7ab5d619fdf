import { isMacpErrorCode } from "./errors.js";
import type { MacpError, MacpErrorCode } from "./errors.js";

/** ASCII trailer carrying the registry code of every status the runtime derives from a MacpError. */
export const ERROR_CODE_TRAILER = "macp-error-code";

/** Binary trailer carrying JSON `{"reasons": [...]}` on `POLICY_DENIED` statuses (wire.md §4.5). */
export const ERROR_DETAILS_TRAILER = "macp-error-details-bin";

/** One response trailer: a key and its value (bytes for `-bin` keys). */
export interface ErrorTrailer {
  readonly key: string;
  readonly value: string | Uint8Array;
}

/** The trailers that carry `error` next to its gRPC status. */
export function encodeErrorTrailers(error: MacpError): ErrorTrailer[] {
  const trailers: ErrorTrailer[] = [{ key: ERROR_CODE_TRAILER, value: error.code }];
  if (error.code === "POLICY_DENIED") trailers.push({ key: ERROR_DETAILS_TRAILER, value: error.detailsBytes() });
  return trailers;
}

/** Read access to received trailers (grpc-js `Metadata` fits). */
export interface TrailerSource {
  /** Every value received under `key` (none: an empty list). */
  get(key: string): readonly (string | Uint8Array)[];
}

/** What the error trailers of a failed call said. */
export interface DecodedErrorTrailers {
  /** Registry code, or undefined when the server sent none (or an unknown one). */
  readonly code: MacpErrorCode | undefined;
  /** Policy deny reasons, in order, when the details trailer carried them. */
  readonly reasons: readonly string[] | undefined;
}

/**
 * Reads the error trailers of a failed call. A details trailer without a code trailer (as the
 * reference runtime sends) still means `POLICY_DENIED`. Malformed values are ignored.
 */
export function decodeErrorTrailers(trailers: TrailerSource | undefined): DecodedErrorTrailers {
  const rawCode = trailers?.get(ERROR_CODE_TRAILER)[0];
  const codeText = rawCode === undefined ? undefined : typeof rawCode === "string" ? rawCode : new TextDecoder().decode(rawCode);
  const reasons = reasonsOf(trailers?.get(ERROR_DETAILS_TRAILER)[0]);
  const code = codeText !== undefined && isMacpErrorCode(codeText) ? codeText : undefined;
  return { code: code ?? (reasons !== undefined ? "POLICY_DENIED" : undefined), reasons };
}

function reasonsOf(raw: string | Uint8Array | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { reasons } = parsed as { reasons?: unknown };
  return Array.isArray(reasons) && reasons.every((reason) => typeof reason === "string") ? (reasons as string[]) : undefined;
}
