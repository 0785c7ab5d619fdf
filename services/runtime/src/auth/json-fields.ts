/**
 * Typed readers for optional fields of untrusted JSON objects (token tables, JWT claims). Each
 * returns `undefined` for an absent or `null` field and throws a message naming the field for a
 * value of the wrong type, so callers can prefix the source of the document.
 */

/** A JSON object, as opposed to an array, `null` or a primitive. */
export type JsonFields = Readonly<Record<string, unknown>>;

/** True when `value` is a JSON object. */
export function isJsonFields(value: unknown): value is JsonFields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An optional boolean field. */
export function optionalBoolean(object: JsonFields, field: string, where: string): boolean | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw new Error(`${where}.${field} must be a boolean`);
  return value;
}

/** An optional non-negative integer field. */
export function optionalCount(object: JsonFields, field: string, where: string): number | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${where}.${field} must be a non-negative integer`);
  }
  return value;
}

/** An optional array-of-strings field. */
export function optionalStrings(object: JsonFields, field: string, where: string): readonly string[] | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new Error(`${where}.${field} must be an array of strings`);
  }
  return value as readonly string[];
}

/** A required non-empty string field. */
export function requiredString(object: JsonFields, field: string, where: string): string {
  const value = object[field];
  if (typeof value !== "string" || value === "") throw new Error(`${where}.${field} must be a non-empty string`);
  return value;
}
