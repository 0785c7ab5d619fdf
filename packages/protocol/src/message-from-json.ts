import { MacpError } from "./errors.js";
import type { MacpErrorVariant } from "./errors.js";
import { INT64_MAX, INT64_MIN, UINT64_MAX, int64FromJson } from "./int64-json.js";
import { encodeUtf8, isWellFormedText } from "./utf8-text.js";
import type { FieldSchema, MessageSchema, ScalarKind } from "./wire-schema.js";

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const MAX_UINT32 = 0xffff_ffff;

class Rejected extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

// A plain assignment of the key "__proto__" would replace the prototype instead of adding a key.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function defaultScalar(kind: ScalarKind): unknown {
  switch (kind) {
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    case "bool":
      return false;
    case "int64":
    case "uint64":
      return 0n;
    default:
      return 0;
  }
}

function defaultValue(field: FieldSchema): unknown {
  if (field.repeated) return [];
  if (field.kind === "map") return {};
  if (field.kind === "message") return undefined;
  return defaultScalar(field.kind);
}

function text(value: unknown, path: string): string {
  if (typeof value !== "string") throw new Rejected(`${path}: expected a string`);
  if (!isWellFormedText(value)) throw new Rejected(`${path}: string is not valid Unicode`);
  return value;
}

function byteString(value: unknown, path: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encodeUtf8(text(value, path));
  if (Array.isArray(value)) {
    const bytes = new Uint8Array(value.length);
    value.forEach((byte: unknown, index) => {
      if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) {
        throw new Rejected(`${path}[${index}]: expected a byte (integer 0..255)`);
      }
      bytes[index] = byte;
    });
    return bytes;
  }
  throw new Rejected(`${path}: expected bytes as a UTF-8 string or an array of byte values`);
}

function integer(value: unknown, path: string, min: number, max: number): number {
  const number = typeof value === "string" && INTEGER_TEXT.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new Rejected(`${path}: expected an integer in [${min}, ${max}]`);
  }
  return number;
}

function int64(value: unknown, path: string, min: bigint, max: bigint): bigint {
  const result = int64FromJson(value, min, max);
  if (result === undefined) {
    throw new Rejected(`${path}: expected an integer in [${min}, ${max}] (a bigint, a decimal string or a number within ±(2^53 - 1))`);
  }
  return result;
}

function double(value: unknown, path: string): number {
  if (typeof value === "number") return value;
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  if (typeof value === "string" && NUMBER_TEXT.test(value)) return Number(value);
  throw new Rejected(`${path}: expected a number`);
}

function scalarValue(kind: ScalarKind, value: unknown, path: string): unknown {
  switch (kind) {
    case "string":
      return text(value, path);
    case "bytes":
      return byteString(value, path);
    case "bool":
      if (typeof value !== "boolean") throw new Rejected(`${path}: expected true or false`);
      return value;
    case "int64":
      return int64(value, path, INT64_MIN, INT64_MAX);
    case "uint64":
      return int64(value, path, 0n, UINT64_MAX);
    case "uint32":
      return integer(value, path, 0, MAX_UINT32);
    case "double":
      return double(value, path);
  }
}

function singleValue(field: FieldSchema, value: unknown, path: string): unknown {
  if (field.kind === "message") return build(field.message, value, path);
  if (field.kind === "map") {
    if (!isRecord(value)) throw new Rejected(`${path}: expected an object of entries`);
    const entries: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
      setOwn(entries, text(key, `${path} key`), scalarValue(field.value, entry, `${path}.${key}`));
    }
    return entries;
  }
  return scalarValue(field.kind, value, path);
}

function fieldValue(field: FieldSchema, value: unknown, path: string): unknown {
  if (!field.repeated) return singleValue(field, value, path);
  if (!Array.isArray(value)) throw new Rejected(`${path}: expected an array`);
  return value.map((item: unknown, index) => {
    if (item === null || item === undefined) throw new Rejected(`${path}[${index}]: missing element`);
    return singleValue(field, item, `${path}[${index}]`);
  });
}

function build(schema: MessageSchema, input: unknown, path: string): Record<string, unknown> {
  if (!isRecord(input)) throw new Rejected(`${path}: expected an object`);
  const message: Record<string, unknown> = {};
  for (const field of schema.fields) message[field.property] = defaultValue(field);
  const seen = new Set<FieldSchema>();
  for (const [key, value] of Object.entries(input)) {
    const field = schema.fields.find((candidate) => candidate.name === key || candidate.property === key);
    if (field === undefined) throw new Rejected(`${path}: unknown field "${key}"`);
    if (seen.has(field)) throw new Rejected(`${path}: field "${field.name}" given twice`);
    seen.add(field);
    if (value !== null && value !== undefined) {
      message[field.property] = fieldValue(field, value, `${path}.${field.name}`);
    }
  }
  return message;
}

/**
 * Builds a generated-code message object from JSON-like input: proto field names (snake_case)
 * or their camelCase property names; `bytes` as UTF-8 text, byte arrays or `Uint8Array`;
 * 64-bit integers as `bigint`, decimal strings or numbers within ±(2^53 − 1) (always `bigint` in
 * the result); maps as objects; `null` means default.
 * Anything else, including an unknown field, is `MacpError(variant)`.
 */
export function messageFromJson(schema: MessageSchema, input: unknown, variant: MacpErrorVariant): Record<string, unknown> {
  const name = schema.typeName.slice(schema.typeName.lastIndexOf(".") + 1);
  try {
    return build(schema, input, name);
  } catch (error) {
    if (error instanceof Rejected) throw new MacpError(variant, error.message);
    throw error;
  }
}
