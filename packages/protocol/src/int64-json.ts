/**
 * int64/uint64 values in JSON. The wire carries them exactly (generated code uses `bigint`), but
 * JSON numbers are doubles to most readers, so every JSON form this project writes (snapshots,
 * mode state, CLI output, history export) uses one rule: a number while the value is within
 * ±(2^53 − 1), where a double holds it exactly, and a decimal string beyond. Values inside that
 * range therefore serialize exactly as they did before 64-bit values were accepted.
 */

/** Smallest signed 64-bit integer (i64::MIN). */
export const INT64_MIN = -(2n ** 63n);
/** Largest signed 64-bit integer (i64::MAX; SDKs send it as a "no deadline" TaskRequest deadline). */
export const INT64_MAX = 2n ** 63n - 1n;
/** Largest unsigned 64-bit integer. */
export const UINT64_MAX = 2n ** 64n - 1n;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

/** The JSON form of a 64-bit integer: a number when a double holds it exactly, else a decimal string. */
export function int64ToJson(value: bigint): number | string {
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
}

/**
 * Reads a 64-bit integer from its JSON form: a safe integer number, a `bigint`, or a decimal
 * string, within `[min, max]`. `undefined` for anything else (a number beyond ±(2^53 − 1) is
 * refused because it may already have been rounded).
 */
export function int64FromJson(value: unknown, min: bigint = INT64_MIN, max: bigint = INT64_MAX): bigint | undefined {
  let result: bigint;
  if (typeof value === "bigint") result = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) result = BigInt(value);
  else if (typeof value === "string" && INTEGER_TEXT.test(value)) result = BigInt(value);
  else return undefined;
  return result >= min && result <= max ? result : undefined;
}

/** A `JSON.stringify` replacer that writes every `bigint` in its {@link int64ToJson} form. */
export function int64JsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? int64ToJson(value) : value;
}
