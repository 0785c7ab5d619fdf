import { SessionMetadata, decodeEnvelope, encodeEnvelope } from "@macp/protocol";
import { fromBase64, isRecord, toBase64 } from "./json.js";
import type { JsonObject } from "./json.js";
import type { RawRuntimeEvent, StreamStatus } from "./raw-event.js";

const STREAM_STATUSES: readonly StreamStatus[] = ["opened", "reconnecting", "closed", "recovered"];

/**
 * The JSON form of a raw runtime event, for a message bus or a `raw_events` row. Protobuf parts
 * (the envelope, session metadata) travel as base64 of their wire encoding, so int64 and bytes
 * fields survive exactly.
 */
export function rawEventToJson(raw: RawRuntimeEvent): JsonObject {
  switch (raw.kind) {
    case "stream-envelope":
      return {
        kind: raw.kind,
        envelope: toBase64(encodeEnvelope(raw.envelope)),
        runtimeSequence: raw.runtimeSequence,
        receivedAt: raw.receivedAt,
      };
    case "stream-inline-error":
      return {
        kind: raw.kind,
        error: {
          code: raw.error.code,
          message: raw.error.message,
          sessionId: raw.error.sessionId,
          messageId: raw.error.messageId,
          details: toBase64(raw.error.details ?? new Uint8Array()),
        },
        receivedAt: raw.receivedAt,
      };
    case "stream-status":
      return {
        kind: raw.kind,
        status: raw.status,
        ...(raw.detail === undefined ? {} : { detail: raw.detail }),
        receivedAt: raw.receivedAt,
      };
    case "session-snapshot":
      return {
        kind: raw.kind,
        metadata: toBase64(SessionMetadata.encode(raw.metadata).finish()),
        receivedAt: raw.receivedAt,
      };
  }
}

function fail(message: string): never {
  throw new TypeError(`invalid raw runtime event: ${message}`);
}

function stringField(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== "string") fail(`"${key}" must be a string`);
  return value;
}

function bytesField(record: Record<string, unknown>, key: string): Uint8Array {
  const bytes = fromBase64(stringField(record, key));
  if (bytes === undefined) fail(`"${key}" must be base64`);
  return bytes;
}

/**
 * Parses the output of {@link rawEventToJson} back. Anything else (wrong kind, missing field,
 * bad base64, an envelope that does not decode) is a `TypeError` naming the problem; a decoding
 * failure of the envelope itself is the protocol's `MacpError("InvalidEnvelope")`.
 */
export function rawEventFromJson(json: unknown): RawRuntimeEvent {
  if (!isRecord(json)) fail("not an object");
  const receivedAt = stringField(json, "receivedAt");
  switch (json["kind"]) {
    case "stream-envelope": {
      const runtimeSequence = json["runtimeSequence"];
      if (typeof runtimeSequence !== "number" || !Number.isSafeInteger(runtimeSequence) || runtimeSequence < 0) {
        fail('"runtimeSequence" must be a non-negative integer');
      }
      return { kind: "stream-envelope", envelope: decodeEnvelope(bytesField(json, "envelope")), runtimeSequence, receivedAt };
    }
    case "stream-inline-error": {
      const error = json["error"];
      if (!isRecord(error)) fail('"error" must be an object');
      return {
        kind: "stream-inline-error",
        error: {
          code: stringField(error, "code"),
          message: stringField(error, "message"),
          sessionId: stringField(error, "sessionId"),
          messageId: stringField(error, "messageId"),
          details: error["details"] === undefined ? new Uint8Array() : bytesField(error, "details"),
        },
        receivedAt,
      };
    }
    case "stream-status": {
      const status = json["status"];
      if (!STREAM_STATUSES.includes(status as StreamStatus)) fail(`"status" must be one of ${STREAM_STATUSES.join(", ")}`);
      const detail = json["detail"];
      if (detail !== undefined && typeof detail !== "string") fail('"detail" must be a string');
      return { kind: "stream-status", status: status as StreamStatus, ...(detail === undefined ? {} : { detail }), receivedAt };
    }
    case "session-snapshot": {
      let metadata: SessionMetadata;
      try {
        metadata = SessionMetadata.decode(bytesField(json, "metadata"));
      } catch (error) {
        if (error instanceof TypeError) throw error;
        fail('"metadata" is not a SessionMetadata');
      }
      return { kind: "session-snapshot", metadata, receivedAt };
    }
    default:
      return fail(`unknown kind ${JSON.stringify(json["kind"])}`);
  }
}
