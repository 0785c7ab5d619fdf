import { sortedKeys } from "./code-point-order.js";
import { hasFloatForm } from "./json-number-form.js";
import type { JsonValue } from "../policy-definition.js";
import { formatSerdeFloat } from "./rust-number-format.js";

/**
 * Compact JSON with object keys sorted (by code point, i.e. UTF-8 byte order) at every level and
 * numbers rendered as serde_json renders them: integers as digits, floats through Ryu (`0.0`,
 * `75.0`, `0.5`). This is the `rules` text of outbound policy descriptors (§12.1).
 *
 * Integers beyond 2^53 print as the double they were parsed into, not as the original digits.
 */
export function toCanonicalJson(value: JsonValue): string {
  return write(value, undefined, "");
}

function write(value: JsonValue, container: object | undefined, key: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      return writeNumber(value, container, key);
    default:
      break;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => write(item, value, String(index))).join(",")}]`;
  }
  const members = sortedKeys(value).map(
    (member) => `${JSON.stringify(member)}:${write(value[member] ?? null, value, member)}`,
  );
  return `{${members.join(",")}}`;
}

function writeNumber(value: number, container: object | undefined, key: string): string {
  if (hasFloatForm(value, container, key)) return formatSerdeFloat(value);
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}
