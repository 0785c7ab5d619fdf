import type { BinaryWriter } from "@bufbuild/protobuf/wire";
import { MacpError } from "./errors.js";
import type { MacpErrorVariant } from "./errors.js";
import { withOwnMapKeys } from "./map-fields.js";
import { assertWellFormed } from "./wire-check.js";
import type { MessageSchema } from "./wire-schema.js";

/** A generated message codec (ts-proto `MessageFns`). */
export interface MessageCodec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array): T;
}

/**
 * Decodes `bytes` as `schema`, strictly: any malformed input becomes `MacpError(variant)`, never
 * another error. 64-bit integers decode exactly, as `bigint`, over their whole range.
 */
export function decodeStrict<T>(
  codec: MessageCodec<T>,
  schema: MessageSchema,
  bytes: Uint8Array,
  variant: MacpErrorVariant,
): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new MacpError(variant, `${schema.typeName} must be given as bytes`);
  }
  assertWellFormed(bytes, schema, variant);
  try {
    return withOwnMapKeys(codec.decode(bytes), schema, bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MacpError(variant, `${schema.typeName} does not decode: ${reason}`);
  }
}

/** Encodes a message already checked against its schema; encoder failures become `variant`. */
export function encodeChecked<T>(
  codec: MessageCodec<T>,
  schema: MessageSchema,
  message: T,
  variant: MacpErrorVariant,
): Uint8Array {
  try {
    return codec.encode(message).finish();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MacpError(variant, `${schema.typeName} does not encode: ${reason}`);
  }
}
