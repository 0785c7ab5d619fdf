import { MacpError } from "./errors.js";
import type { MacpErrorVariant } from "./errors.js";
import { decodeUtf8Strict } from "./utf8-text.js";
import type { FieldSchema, MessageSchema } from "./wire-schema.js";

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

const MAX_VARINT_BYTES = 10;
const MAX_TAG = 0xffff_ffff;
// prost's default decode recursion limit; nested messages and unknown groups both count.
const MAX_DEPTH = 100;

class Malformed extends Error {}

function expectedWireType(field: FieldSchema): number {
  switch (field.kind) {
    case "bool":
    case "int64":
    case "uint64":
    case "uint32":
      return VARINT;
    case "double":
      return FIXED64;
    default:
      return LENGTH_DELIMITED;
  }
}

/**
 * Walks protobuf bytes against a schema with the reference runtime's (prost) strictness, which
 * the generated decoders lack: they silently stop at a zero tag or a stray end-group, skip known
 * fields sent with the wrong wire type, and replace invalid UTF-8 in strings.
 */
class WireWalker {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  message(schema: MessageSchema, end: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new Malformed("nesting too deep");
    while (this.pos < end) {
      const [fieldNo, wireType] = this.tag(end);
      if (wireType === END_GROUP) throw new Malformed(`unexpected end-group tag for field ${fieldNo}`);
      const field = schema.byNumber.get(fieldNo);
      if (field === undefined) {
        this.skip(fieldNo, wireType, end, depth);
      } else {
        this.field(schema, field, wireType, end, depth);
      }
    }
  }

  private field(schema: MessageSchema, field: FieldSchema, wireType: number, end: number, depth: number): void {
    const expected = expectedWireType(field);
    const packed = field.repeated && expected !== LENGTH_DELIMITED && wireType === LENGTH_DELIMITED;
    if (wireType !== expected && !packed) {
      throw new Malformed(`${schema.typeName}.${field.name} has wire type ${wireType}, expected ${expected}`);
    }
    if (packed) {
      const packedEnd = this.lengthPrefix(end);
      while (this.pos < packedEnd) this.scalarValue(expected, packedEnd);
      return;
    }
    if (expected !== LENGTH_DELIMITED) {
      this.scalarValue(expected, end);
      return;
    }
    const valueEnd = this.lengthPrefix(end);
    switch (field.kind) {
      case "message":
        this.message(field.message, valueEnd, depth + 1);
        break;
      case "map":
        this.message(field.entry, valueEnd, depth + 1);
        break;
      case "string":
        if (decodeUtf8Strict(this.bytes.subarray(this.pos, valueEnd)) === undefined) {
          throw new Malformed(`${schema.typeName}.${field.name} is not valid UTF-8`);
        }
        break;
      default:
        break;
    }
    this.pos = valueEnd;
  }

  private skip(fieldNo: number, wireType: number, end: number, depth: number): void {
    if (wireType !== START_GROUP) {
      if (wireType === LENGTH_DELIMITED) {
        this.pos = this.lengthPrefix(end);
      } else {
        this.scalarValue(wireType, end);
      }
      return;
    }
    if (depth >= MAX_DEPTH) throw new Malformed("nesting too deep");
    for (;;) {
      if (this.pos >= end) throw new Malformed(`group ${fieldNo} is not terminated`);
      const [innerNo, innerType] = this.tag(end);
      if (innerType === END_GROUP) {
        if (innerNo !== fieldNo) throw new Malformed(`end-group ${innerNo} closes group ${fieldNo}`);
        return;
      }
      this.skip(innerNo, innerType, end, depth + 1);
    }
  }

  private scalarValue(wireType: number, end: number): void {
    if (wireType === VARINT) {
      this.varint(end);
      return;
    }
    const width = wireType === FIXED64 ? 8 : 4;
    if (this.pos + width > end) throw new Malformed("truncated fixed-width value");
    this.pos += width;
  }

  private tag(end: number): [number, number] {
    const key = this.varint(end);
    if (key > MAX_TAG) throw new Malformed("tag exceeds 32 bits");
    const wireType = key % 8;
    const fieldNo = Math.floor(key / 8);
    if (wireType > FIXED32) throw new Malformed(`invalid wire type ${wireType}`);
    if (fieldNo === 0) throw new Malformed("field number 0");
    return [fieldNo, wireType];
  }

  private lengthPrefix(end: number): number {
    const length = this.varint(end);
    if (length > end - this.pos) throw new Malformed("length-delimited value runs past its end");
    return this.pos + length;
  }

  // Precision loss above 2^53 is harmless: the value only feeds tag and length comparisons.
  private varint(end: number): number {
    let value = 0;
    for (let index = 0; index < MAX_VARINT_BYTES; index++) {
      if (this.pos >= end) throw new Malformed("truncated varint");
      const byte = this.bytes[this.pos++] ?? 0;
      if (index === MAX_VARINT_BYTES - 1 && byte > 1) throw new Malformed("varint overflows 64 bits");
      value += (byte & 0x7f) * 2 ** (7 * index);
      if (byte < 0x80) return value;
    }
    throw new Malformed("varint longer than 10 bytes");
  }
}

/**
 * Throws `MacpError(variant)` unless `bytes` is a well-formed encoding of `schema`: valid tags
 * and wire types, known fields with their declared wire type, UTF-8 strings, nothing truncated.
 * Unknown fields (including groups) are allowed, as in any protobuf decoder.
 */
export function assertWellFormed(bytes: Uint8Array, schema: MessageSchema, variant: MacpErrorVariant): void {
  try {
    new WireWalker(bytes).message(schema, bytes.length, 0);
  } catch (error) {
    if (error instanceof Malformed) {
      throw new MacpError(variant, `${schema.typeName} does not decode: ${error.message}`);
    }
    throw error;
  }
}
