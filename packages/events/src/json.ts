/** A JSON value: what an event's `data` may hold once it has been normalized. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (the shape of every event's `data`). */
export type JsonObject = { [key: string]: JsonValue };

/** Whether `value` is a plain (non-array, non-null) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Bytes per `String.fromCharCode` call (stays well below engines' argument limits). */
const CHUNK = 0x2000;

/** Standard base64 of `bytes` without relying on Node's Buffer (the package also runs in browsers). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let start = 0; start < bytes.length; start += CHUNK) binary += String.fromCharCode(...bytes.subarray(start, start + CHUNK));
  return btoa(binary);
}

/** Bytes of a standard base64 string; `undefined` when it is not valid base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// U+0000 and unpaired surrogates are valid in JS strings (and U+0000 in protobuf strings) but are
// refused by PostgreSQL jsonb, so one such payload would make a run's events unstorable.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Any character {@link storableText} may have to replace: most text has none and is returned as is. */
const SUSPECT = /[\0\uD800-\uDFFF]/;

/** `text` with U+0000 and unpaired surrogates replaced by U+FFFD, so any JSON store accepts it. */
export function storableText(text: string): string {
  if (!SUSPECT.test(text)) return text;
  return text.replace(LONE_SURROGATE, "\uFFFD").replaceAll("\0", "\uFFFD");
}

/**
 * A JSON-safe copy of a decoded protobuf value: `Uint8Array` becomes base64 text, `bigint` a
 * number when it is a safe integer (else its decimal text), non-finite numbers their text,
 * `undefined` members are dropped, and text goes through {@link storableText}. Generated
 * messages only hold these kinds of values.
 */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return storableText(value);
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return int64ToJson(value);
  if (value instanceof Uint8Array) return toBase64(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) out[storableText(key)] = toJsonValue(member);
    }
    return out;
  }
  return String(value);
}

/**
 * An int64 field (`number` or `bigint`) as JSON without losing digits: a number while it is a safe
 * integer, else its decimal string, the rule `toJsonValue` applies to every bigint (a timestamp
 * past 2^53 ms must not be silently rounded into another instant).
 */
export function int64ToJson(value: number | bigint | undefined): number | string {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

/** `value` with `map` applied to every string in it (keys untouched). */
export function mapStrings(value: JsonValue, map: (text: string) => string): JsonValue {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, member] of Object.entries(value)) out[key] = mapStrings(member, map);
    return out;
  }
  return value;
}
