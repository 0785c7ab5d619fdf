import { MacpError, compareCodePoints, int64FromJson } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { PersistentMap } from "./persistent-map.js";

/** A JSON object as parsed from stored mode state. */
export type StateObject = { readonly [key: string]: JsonValue };

/** The error for stored mode state that does not have the mode's shape (`INVALID_ENVELOPE`). */
export function corruptState(detail: string): MacpError {
  return new MacpError("InvalidModeState", `stored mode state is invalid: ${detail}`);
}

/** Reads `value` as a JSON object. */
export function readObject(value: JsonValue | undefined, what: string): StateObject {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    throw corruptState(`${what} is not an object`);
  }
  return value;
}

/** Reads `value` as a JSON array. */
export function readArray(value: JsonValue | undefined, what: string): readonly JsonValue[] {
  if (!Array.isArray(value)) throw corruptState(`${what} is not an array`);
  return value;
}

/** Reads an own field of `object`; inherited names such as `__proto__` never count as present. */
export function field(object: StateObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Reads a string field. */
export function readString(object: StateObject, key: string): string {
  const value = field(object, key);
  if (typeof value !== "string") throw corruptState(`${key} is not a string`);
  return value;
}

/** Reads a string-or-null field. */
export function readNullableString(object: StateObject, key: string): string | null {
  const value = field(object, key);
  if (value === null) return null;
  if (typeof value !== "string") throw corruptState(`${key} is not a string or null`);
  return value;
}

/** Reads a finite number field. */
export function readNumber(object: StateObject, key: string): number {
  const value = field(object, key);
  if (typeof value !== "number" || !Number.isFinite(value)) throw corruptState(`${key} is not a number`);
  return value;
}

/**
 * Reads an int64 field stored in its JSON form (a number within ±(2^53 − 1), else a decimal
 * string; see `int64ToJson`), exactly.
 */
export function readInt64(object: StateObject, key: string): bigint {
  const value = int64FromJson(field(object, key));
  if (value === undefined) throw corruptState(`${key} is not a 64-bit integer`);
  return value;
}

/** Reads a boolean field. */
export function readBoolean(object: StateObject, key: string): boolean {
  const value = field(object, key);
  if (typeof value !== "boolean") throw corruptState(`${key} is not a boolean`);
  return value;
}

/** Reads one of a closed set of strings. */
export function readEnum<T extends string>(object: StateObject, key: string, values: readonly T[]): T {
  const value = readString(object, key);
  if (!(values as readonly string[]).includes(value)) throw corruptState(`${key} has unknown value '${value}'`);
  return value as T;
}

/** Reads a byte field stored as an array of integers 0..255. */
export function readBytes(object: StateObject, key: string): Uint8Array {
  const items = readArray(field(object, key), key);
  const bytes = new Uint8Array(items.length);
  items.forEach((item, index) => {
    if (typeof item !== "number" || !Number.isInteger(item) || item < 0 || item > 255) {
      throw corruptState(`${key} is not a byte array`);
    }
    bytes[index] = item;
  });
  return bytes;
}

/** Reads an array of strings. */
export function readStrings(object: StateObject, key: string): string[] {
  return readArray(field(object, key), key).map((item) => {
    if (typeof item !== "string") throw corruptState(`${key} holds a non-string`);
    return item;
  });
}

/** Reads a JSON object keyed by id into a persistent map, converting each value. */
export function readMap<T>(object: StateObject, key: string, read: (value: JsonValue, id: string) => T): PersistentMap<string, T> {
  const entries = Object.entries(readObject(field(object, key), key));
  return PersistentMap.from(entries.map(([id, value]) => [id, read(value, id)] as const));
}

/** Bytes in their stored JSON form: an array of integers. */
export function bytesJson(bytes: Uint8Array): JsonValue {
  return Array.from(bytes);
}

/**
 * A map as a plain object with keys in byte-wise order, the stored form of id-keyed maps.
 * `Object.fromEntries` defines own data properties, so ids such as `__proto__` stay ordinary keys.
 */
export function mapJson<T, U>(map: ReadonlyMap<string, T> | PersistentMap<string, T>, write: (value: T) => U): Record<string, U> {
  const keys = [...map.keys()].sort(compareCodePoints);
  return Object.fromEntries(keys.map((key) => [key, write(map.get(key) as T)]));
}
