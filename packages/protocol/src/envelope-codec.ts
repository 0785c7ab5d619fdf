import { Envelope } from "./gen/macp/v1/envelope.js";
import { envelopeSchema } from "./message-schemas.js";
import { messageFromJson } from "./message-from-json.js";
import { decodeStrict, encodeChecked } from "./strict-decode.js";

/**
 * Encodes an `Envelope`. Omitted fields take their defaults; `timestamp_unix_ms` may be given as a
 * `bigint` (any int64), a decimal string or a number within ±(2^53 − 1); a field of the wrong type
 * or an out-of-range timestamp is `MacpError("InvalidEnvelope")`.
 */
export function encodeEnvelope(envelope: Partial<Envelope>): Uint8Array {
  const message = messageFromJson(envelopeSchema, envelope, "InvalidEnvelope") as unknown as Envelope;
  return encodeChecked(Envelope, envelopeSchema, message, "InvalidEnvelope");
}

/**
 * Decodes an `Envelope` strictly. Truncated or malformed bytes and invalid UTF-8 in a string field
 * are `MacpError("InvalidEnvelope")`, never another error; `timestampUnixMs` is an exact `bigint`
 * over the whole int64 range.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return decodeStrict(Envelope, envelopeSchema, bytes, "InvalidEnvelope");
}
