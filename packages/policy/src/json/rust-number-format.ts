/**
 * Number rendering as the reference runtime (Rust) prints it. Deny reasons and canonical rules JSON
 * are wire-visible text, and JavaScript's own formatting differs at the edges (exponent notation,
 * tie rounding, `1.0` vs `1`).
 */

interface ShortestDecimal {
  readonly negative: boolean;
  /** Shortest round-trip significant digits, no leading or trailing zeros. */
  readonly digits: string;
  /** Position of the decimal point relative to `digits`: value = 0.digits × 10^point. */
  readonly point: number;
}

/** Shortest round-trip decimal of a finite, non-zero double (what both Ryu and Rust's `{}` start from). */
function shortestDecimal(x: number): ShortestDecimal {
  const [mantissa = "0", exponent = "0"] = Math.abs(x).toExponential().split("e");
  return { negative: x < 0, digits: mantissa.replace(".", ""), point: Number(exponent) + 1 };
}

function nonFinite(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  return x > 0 ? "inf" : "-inf";
}

/**
 * Rust's `Display` for `f64` (`format!("{}", x)`): shortest round-trip digits, never exponent
 * notation, no trailing `.0` (`3`, `0.5`, `75`, `1000000000000000000000`).
 */
export function formatRustDisplay(x: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const { negative, digits, point } = shortestDecimal(x);
  let body: string;
  if (point <= 0) body = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) body = digits + "0".repeat(point - digits.length);
  else body = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${body}` : body;
}

/**
 * serde_json's rendering of a float value (the Ryu crate's "pretty" format): always a decimal point
 * or exponent (`0.0`, `75.0`, `0.5`, `1e16`, `1.5e-7`).
 */
export function formatSerdeFloat(x: number): string {
  if (!Number.isFinite(x)) return "null";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const { negative, digits, point } = shortestDecimal(x);
  const length = digits.length;
  const k = point - length;
  let body: string;
  if (k >= 0 && point <= 16) body = `${digits}${"0".repeat(k)}.0`;
  else if (point > 0 && point <= 16) body = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (point > -5 && point <= 0) body = `0.${"0".repeat(-point)}${digits}`;
  else if (length === 1) body = `${digits}e${point - 1}`;
  else body = `${digits.slice(0, 1)}.${digits.slice(1)}e${point - 1}`;
  return negative ? `-${body}` : body;
}

/** The exact value of a finite double as `mantissa × 2^exponent`. */
function exactBinary(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * Rust's `format!("{:.N}", x)`: the exact binary value rounded to `fractionDigits` decimals with
 * ties to even (`0.125` → `0.12`), where `Number.prototype.toFixed` rounds ties up.
 */
export function formatRustFixed(x: number, fractionDigits: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = exactBinary(Math.abs(x));
  let numerator = mantissa * 10n ** BigInt(fractionDigits);
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  let quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) {
    quotient += 1n;
  }
  const padded = quotient.toString().padStart(fractionDigits + 1, "0");
  const body =
    fractionDigits === 0
      ? padded
      : `${padded.slice(0, -fractionDigits)}.${padded.slice(-fractionDigits)}`;
  return negative ? `-${body}` : body;
}
