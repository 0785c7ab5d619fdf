import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareCodePoints } from "../src/index.js";

const utf8 = new TextEncoder();

function byUtf8Bytes(left: string, right: string): number {
  return Math.sign(Buffer.compare(Buffer.from(utf8.encode(left)), Buffer.from(utf8.encode(right))));
}

describe("code-point (UTF-8) ordering of ids", () => {
  it("orders ids exactly as their UTF-8 bytes, astral characters included", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 6 });
    fc.assert(
      fc.property(text, text, (left, right) => {
        expect(Math.sign(compareCodePoints(left, right))).toBe(byUtf8Bytes(left, right));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ["\u{1F600}", "\uFFFD"],
    ["p10", "p2"],
    ["a", "ab"],
  ])("puts %j and %j in byte order", (left, right) => {
    expect(Math.sign(compareCodePoints(left, right))).toBe(byUtf8Bytes(left, right));
  });
});
