import { hasFloatForm } from "../json/json-number-form.js";
import type { JsonValue } from "../policy-definition.js";
import { formatSerdeFloat } from "../json/rust-number-format.js";

/** A JSON object as found inside policy rules. */
export type RulesObject = { readonly [key: string]: JsonValue };

/** Thrown when rules do not type-check; the message is the parser detail of validation rule #5. */
export class RulesShapeError extends Error {}

const U32_MAX = 4_294_967_295;
/**
 * u64::MAX as a double rounds up to 2^64, so 2^64 itself must pass: an integer literal above u64::MAX
 * is already a float (see json-text.ts) and fails the type check.
 */
const U64_MAX_AS_DOUBLE = 2 ** 64;

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: JsonValue | undefined): value is RulesObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** serde-style description of an offending value, e.g. `string "x"` or `floating point 1.5`. */
function describe(value: JsonValue, container: object, key: string): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "boolean":
      return `boolean \`${String(value)}\``;
    case "number":
      return hasFloatForm(value, container, key)
        ? `floating point \`${formatSerdeFloat(value)}\``
        : `integer \`${value}\``;
    case "string":
      return `string ${JSON.stringify(value)}`;
    default:
      return "object";
  }
}

/**
 * Structural reader for one rules object, mirroring serde's derive with `#[serde(default)]`
 * fields: absent keys take the default, unknown keys are ignored, and a present key of the wrong
 * JSON type (null included) fails with a `RulesShapeError` naming the path.
 */
export class RulesReader {
  private constructor(
    private readonly source: RulesObject,
    private readonly path: string,
  ) {}

  /** A reader over the top-level rules `value`, which must be a JSON object. */
  static root(value: JsonValue): RulesReader {
    if (!isJsonObject(value)) {
      throw new RulesShapeError(`invalid type: ${describeTop(value)}, expected an object`);
    }
    return new RulesReader(value, "");
  }

  /** The nested object at `key`; an absent key reads as an empty object (all defaults). */
  object(key: string): RulesReader {
    const value = this.present(key);
    if (value === undefined) return new RulesReader({}, this.child(key));
    if (!isJsonObject(value)) this.mismatch(key, value, "an object");
    return new RulesReader(value, this.child(key));
  }

  /** A boolean knob. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.present(key);
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") this.mismatch(key, value, "a boolean");
    return value;
  }

  /** A string knob (any string; enum-like knobs are not checked, §12.3). */
  string(key: string, fallback: string): string {
    const value = this.present(key);
    if (value === undefined) return fallback;
    if (typeof value !== "string") this.mismatch(key, value, "a string");
    return value;
  }

  /** A float knob: any JSON number, integer or float, no range check. */
  number(key: string, fallback: number): number {
    const value = this.present(key);
    if (value === undefined) return fallback;
    if (typeof value !== "number") this.mismatch(key, value, "a number");
    return value;
  }

  /** An unsigned integer knob (`u32` or `u64`): a JSON integer, not `1.0`, within range. */
  unsigned(key: string, fallback: number, width: 32 | 64): number {
    const value = this.present(key);
    if (value === undefined) return fallback;
    const expected = width === 32 ? "u32" : "u64";
    if (typeof value !== "number" || hasFloatForm(value, this.source, key)) {
      this.mismatch(key, value, `an unsigned integer (${expected})`);
    }
    if (value < 0 || (width === 32 ? value > U32_MAX : value > U64_MAX_AS_DOUBLE)) {
      throw new RulesShapeError(
        `${this.child(key)}: invalid value: integer \`${value}\`, expected an unsigned integer (${expected})`,
      );
    }
    return value;
  }

  /** A string enum knob: exactly one of `allowed`. */
  variant<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.present(key);
    if (value === undefined) return fallback;
    if (typeof value !== "string") this.mismatch(key, value, "a string");
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) {
      const options = allowed.map((candidate) => JSON.stringify(candidate)).join(", ");
      throw new RulesShapeError(
        `${this.child(key)}: unknown variant ${JSON.stringify(value)}, expected one of ${options}`,
      );
    }
    return match;
  }

  /** An array of strings; absent reads as empty. */
  stringArray(key: string): readonly string[] {
    const value = this.present(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.mismatch(key, value, "an array");
    return value.map((item, index) => {
      if (typeof item !== "string") {
        throw new RulesShapeError(
          `${this.child(key)}[${index}]: invalid type: ${describe(item, value, String(index))}, expected a string`,
        );
      }
      return item;
    });
  }

  /** A map of numbers keyed by string; absent reads as empty. */
  numberMap(key: string): ReadonlyMap<string, number> {
    const value = this.present(key);
    if (value === undefined) return new Map();
    if (!isJsonObject(value)) this.mismatch(key, value, "an object");
    const entries = new Map<string, number>();
    for (const [entryKey, item] of Object.entries(value)) {
      if (typeof item !== "number") {
        throw new RulesShapeError(
          `${this.child(key)}[${JSON.stringify(entryKey)}]: invalid type: ${describe(item, value, entryKey)}, expected a number`,
        );
      }
      entries.set(entryKey, item);
    }
    return entries;
  }

  private present(key: string): JsonValue | undefined {
    return Object.hasOwn(this.source, key) ? this.source[key] : undefined;
  }

  private child(key: string): string {
    return this.path === "" ? key : `${this.path}.${key}`;
  }

  private mismatch(key: string, value: JsonValue, expected: string): never {
    throw new RulesShapeError(
      `${this.child(key)}: invalid type: ${describe(value, this.source, key)}, expected ${expected}`,
    );
  }
}

function describeTop(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `number \`${value}\``;
  return `boolean \`${String(value)}\``;
}

/**
 * Use-time parsing (§12.6): the strict reader's result, or `defaults` when the rules do not
 * type-check (for example a `"*"` policy, validated only as Decision rules, bound to a quorum
 * session).
 */
export function readOrDefault<T>(rules: JsonValue, read: (reader: RulesReader) => T, defaults: T): T {
  if (!isJsonObject(rules)) return defaults;
  try {
    return read(RulesReader.root(rules));
  } catch (error) {
    if (error instanceof RulesShapeError) return defaults;
    throw error;
  }
}
