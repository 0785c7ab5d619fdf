import { clearIntegralFloat, defineJsonProperty, markIntegralFloat } from "./json-number-form.js";
import type { JsonValue } from "../policy-definition.js";

/** serde_json refuses a container nested this deep (its default recursion limit). */
const MAX_DEPTH = 128;
const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class JsonSyntaxError extends Error {}

/**
 * Parses JSON text with the acceptance rules of `serde_json::from_str::<Value>`, which decides
 * whether a registered policy keeps its rules or silently gets `{}`. Beyond `JSON.parse` it refuses
 * numbers out of `f64` range, lone surrogate escapes and nesting of 128 levels, and it marks
 * integral numbers written in float form (see json-number-form.ts). Containers come back frozen.
 * Returns undefined for text that is not valid JSON.
 */
export function parseJsonText(text: string): JsonValue | undefined {
  try {
    return new JsonReader(text).readDocument();
  } catch (error) {
    if (error instanceof JsonSyntaxError) return undefined;
    throw error;
  }
}

class JsonReader {
  private position = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  readDocument(): JsonValue {
    const value = this.readValue(undefined, "");
    this.skipWhitespace();
    if (this.position !== this.text.length) throw new JsonSyntaxError("trailing characters");
    return value;
  }

  private fail(): never {
    throw new JsonSyntaxError(`invalid JSON at offset ${this.position}`);
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length) {
      const c = this.text[this.position];
      if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") return;
      this.position += 1;
    }
  }

  private expect(literal: string): void {
    if (!this.text.startsWith(literal, this.position)) this.fail();
    this.position += literal.length;
  }

  /** Reads one value; `container`/`key` say where it will be stored, for float marks. */
  private readValue(container: object | undefined, key: string): JsonValue {
    this.skipWhitespace();
    const c = this.text[this.position];
    switch (c) {
      case "{":
        return this.nested(() => this.readObject());
      case "[":
        return this.nested(() => this.readArray());
      case '"':
        return this.readString();
      case "t":
        this.expect("true");
        return true;
      case "f":
        this.expect("false");
        return false;
      case "n":
        this.expect("null");
        return null;
      default:
        return this.readNumber(container, key);
    }
  }

  private nested(read: () => JsonValue): JsonValue {
    this.depth += 1;
    if (this.depth >= MAX_DEPTH) this.fail();
    const value = read();
    this.depth -= 1;
    return value;
  }

  private readObject(): JsonValue {
    const object: { [key: string]: JsonValue } = {};
    this.position += 1;
    this.skipWhitespace();
    if (this.text[this.position] === "}") {
      this.position += 1;
      return Object.freeze(object);
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.fail();
      const key = this.readString();
      this.skipWhitespace();
      this.expect(":");
      clearIntegralFloat(object, key);
      defineJsonProperty(object, key, this.readValue(object, key));
      this.skipWhitespace();
      const separator = this.text[this.position];
      this.position += 1;
      if (separator === "}") return Object.freeze(object);
      if (separator !== ",") this.fail();
    }
  }

  private readArray(): JsonValue {
    const array: JsonValue[] = [];
    this.position += 1;
    this.skipWhitespace();
    if (this.text[this.position] === "]") {
      this.position += 1;
      Object.freeze(array);
      return array;
    }
    for (;;) {
      array.push(this.readValue(array, String(array.length)));
      this.skipWhitespace();
      const separator = this.text[this.position];
      this.position += 1;
      if (separator === "]") {
        Object.freeze(array);
        return array;
      }
      if (separator !== ",") this.fail();
    }
  }

  private readString(): string {
    this.position += 1;
    let result = "";
    for (;;) {
      const c = this.text[this.position];
      if (c === undefined) this.fail();
      this.position += 1;
      if (c === '"') return result;
      if (c === "\\") result += this.readEscape();
      else if (c < " ") this.fail();
      else result += c;
    }
  }

  private readEscape(): string {
    const c = this.text[this.position];
    this.position += 1;
    switch (c) {
      case '"':
      case "\\":
      case "/":
        return c;
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u":
        return this.readUnicodeEscape();
      default:
        return this.fail();
    }
  }

  /** A `\uNNNN` escape; surrogates must come as a well-formed pair (serde_json refuses lone ones). */
  private readUnicodeEscape(): string {
    const unit = this.readHex4();
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail();
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    this.expect("\\u");
    const low = this.readHex4();
    if (low < 0xdc00 || low > 0xdfff) this.fail();
    return String.fromCharCode(unit, low);
  }

  private readHex4(): number {
    const hex = this.text.slice(this.position, this.position + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail();
    this.position += 4;
    return Number.parseInt(hex, 16);
  }

  /**
   * serde_json keeps an integer literal as an integer when it fits `u64` (or `i64` if negative);
   * anything else, and every literal with a fraction or exponent, is an `f64`.
   */
  private readNumber(container: object | undefined, key: string): number {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail();
    const lexeme = match[0];
    this.position += lexeme.length;
    const value = Number(lexeme);
    if (!Number.isFinite(value)) this.fail();
    const written = match[1] !== undefined || match[2] !== undefined;
    const integer = !written && BigInt(lexeme) >= I64_MIN && BigInt(lexeme) <= U64_MAX;
    if (!integer && Number.isInteger(value) && container !== undefined) markIntegralFloat(container, key);
    return value;
  }
}
