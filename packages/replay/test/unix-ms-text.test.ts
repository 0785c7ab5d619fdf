import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatUnixMs } from "@macp/replay";
import { expandedIsoTime } from "../src/unix-ms-text.js";

const DATE_LIMIT_MS = 8_640_000_000_000_000;

describe("formatUnixMs", () => {
  it("is Date#toISOString wherever a Date reaches, and the integer calendar agrees with it there", () => {
    fc.assert(
      fc.property(fc.integer({ min: -DATE_LIMIT_MS, max: DATE_LIMIT_MS }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(formatUnixMs(ms)).toBe(iso);
        expect(formatUnixMs(BigInt(ms))).toBe(iso);
        expect(expandedIsoTime(BigInt(ms))).toBe(/^[+-]/.test(iso) ? iso : `+00${iso}`);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    [2n ** 63n - 1n, "+292278994-08-17T07:12:55.807Z"],
    [-(2n ** 63n), "-292275055-05-16T16:47:04.192Z"],
    [8_640_000_000_000_001n, "+275760-09-13T00:00:00.001Z"],
    [-8_640_000_000_000_001n, "-271821-04-19T23:59:59.999Z"],
  ])("writes %s beyond the Date range exactly", (ms, text) => {
    expect(formatUnixMs(ms)).toBe(text);
  });
});
