import { Envelope } from "./gen/macp/v1/envelope.js";
import { envelopeSchema } from "./message-schemas.js";
import { messageFromJson } from "./message-from-json.js";
import { decodeStrict, encodeChecked } from "./strict-decode.js";

/**
 * Encodes an `Envelope`. Omitted fields take their defaults; a field of the wrong type (or a
 * timestamp that is not a safe integer) is `MacpError("InvalidEnvelope")`.
 */
export function encodeEnvelope(envelope: Partial<Envelope>): Uint8Array {
  const message = messageFromJson(envelopeSchema, envelope, "InvalidEnvelope") as unknown as Envelope;
  return encodeChecked(Envelope, envelopeSchema, message, "InvalidEnvelope");
}

/**
 * Decodes an `Envelope` strictly. Truncated or malformed bytes, invalid UTF-8 in a string
 * field, and a timestamp beyond ±2^53 are `MacpError("InvalidEnvelope")`, never another error.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return decodeStrict(Envelope, envelopeSchema, bytes, "InvalidEnvelope");
}
