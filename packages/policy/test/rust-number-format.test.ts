import { describe, expect, it } from "vitest";
import { formatRustDisplay, formatRustFixed, formatSerdeFloat } from "../src/json/rust-number-format.js";

describe("Rust Display of f64, as used in deny reasons", () => {
  it.each<[number, string]>([
    [3, "3"],
    [0.5, "0.5"],
    [75, "75"],
    [-2.5, "-2.5"],
    [0, "0"],
    [1e21, "1000000000000000000000"],
    [1e-7, "0.0000001"],
    [123.456, "123.456"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "inf"],
  ])("%d prints as %s", (value, text) => {
    expect(formatRustDisplay(value)).toBe(text);
  });
});

describe("Rust fixed-precision formatting rounds the exact value, ties to even", () => {
  it.each<[number, number, string]>([
    [0.8, 2, "0.80"],
    [0.125, 2, "0.12"],
    [0.375, 2, "0.38"],
    [0.25, 1, "0.2"],
    [0.35, 1, "0.3"],
    [2.5, 0, "2"],
    [3.5, 0, "4"],
    [(2 / 3) * 100, 1, "66.7"],
    [0.67 * 100, 1, "67.0"],
    [0, 1, "0.0"],
    [-0.04, 1, "-0.0"],
    [100, 1, "100.0"],
    [1e21, 1, "1000000000000000000000.0"],
  ])("%d with %i decimals prints as %s", (value, digits, text) => {
    expect(formatRustFixed(value, digits)).toBe(text);
  });
});

describe("serde_json float rendering (Ryu)", () => {
  it.each<[number, string]>([
    [0, "0.0"],
    [-0, "-0.0"],
    [75, "75.0"],
    [0.5, "0.5"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e16"],
    [1.5e-7, "1.5e-7"],
    [0.0001, "0.0001"],
    [1e-5, "0.00001"],
    [1e-6, "1e-6"],
    [1.8446744073709552e19, "1.8446744073709552e19"],
  ])("%d renders as %s", (value, text) => {
    expect(formatSerdeFloat(value)).toBe(text);
  });
});
