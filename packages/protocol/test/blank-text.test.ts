import { describe, expect, it } from "vitest";
import { isBlank, trimWhiteSpace } from "../src/index.js";

// The reference runtime trims with Rust's `str::trim` (Unicode White_Space); JavaScript's `trim`
// also strips U+FEFF and keeps U+0085, so these two characters show which rule is applied.
describe("blank text, as the reference runtime decides it", () => {
  it("treats NEXT LINE (U+0085) as white space, unlike String.prototype.trim", () => {
    expect(isBlank("\u0085")).toBe(true);
    expect(isBlank(" \u0085\u3000\t")).toBe(true);
    expect(trimWhiteSpace("\u0085alice\u0085")).toBe("alice");
  });

  it("keeps the BYTE ORDER MARK (U+FEFF) as content, unlike String.prototype.trim", () => {
    expect(isBlank("\uFEFF")).toBe(false);
    expect(trimWhiteSpace(" \uFEFF ")).toBe("\uFEFF");
  });

  it("calls the empty string blank and any other character content", () => {
    expect(isBlank("")).toBe(true);
    expect(isBlank(" a ")).toBe(false);
    expect(trimWhiteSpace("  a b  ")).toBe("a b");
  });
});
