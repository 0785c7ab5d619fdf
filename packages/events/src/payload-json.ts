import { decodePayload, payloadTypeName } from "@macp/protocol";
import { isRecord, toBase64, toJsonValue } from "./json.js";
import type { JsonObject } from "./json.js";

/** An envelope payload made JSON for events. */
export interface PayloadJson {
  /** Decoded object (camelCase protobuf fields, bytes as base64), or `{payloadBase64[, decodeError]}`. */
  readonly payload: JsonObject;
  /** Fully qualified protobuf type the payload was decoded as, when it has one. */
  readonly payloadTypeName?: string;
}

function utf8JsonObject(bytes: Uint8Array): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return isRecord(parsed) ? (toJsonValue(parsed) as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes an envelope payload with the protocol's strict codecs when `(mode, messageType)` has a
 * payload type; otherwise (extension modes, unknown types) a UTF-8 JSON object is taken as is.
 * Anything undecodable becomes `{payloadBase64}` (with `decodeError` when a typed decode failed)
 * instead of throwing, so one bad payload never stops a run's ingestion (G-5).
 */
export function payloadToJson(mode: string, messageType: string, bytes: Uint8Array): PayloadJson {
  const typeName = payloadTypeName(mode, messageType);
  if (typeName === undefined) {
    return { payload: utf8JsonObject(bytes) ?? { payloadBase64: toBase64(bytes) } };
  }
  try {
    const decoded = toJsonValue(decodePayload(mode, messageType, bytes));
    return { payload: isRecord(decoded) ? decoded : { value: decoded }, payloadTypeName: typeName };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { payload: { payloadBase64: toBase64(bytes), decodeError: message }, payloadTypeName: typeName };
  }
}
