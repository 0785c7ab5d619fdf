/**
 * Code points of Unicode White_Space, i.e. what the reference runtime (Rust `str::trim`) strips.
 * `String.prototype.trim` differs (it strips U+FEFF and keeps U+0085), and "blank" checks decide
 * acceptance, so the exact set matters.
 */
const WHITE_SPACE: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** `value` without leading and trailing Unicode White_Space, as the reference's `str::trim` gives it. */
export function trimWhiteSpace(value: string): string {
  // Every White_Space code point is in the BMP, so code units suffice.
  let start = 0;
  let end = value.length;
  while (start < end && WHITE_SPACE.has(value.charCodeAt(start))) start += 1;
  while (end > start && WHITE_SPACE.has(value.charCodeAt(end - 1))) end -= 1;
  return value.slice(start, end);
}

/** True when `value` is empty after trimming Unicode White_Space (the spec's "blank"). */
export function isBlank(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    if (!WHITE_SPACE.has(value.charCodeAt(index))) return false;
  }
  return true;
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings and so the
 * order of Rust's `String` / `BTreeMap` keys. Plain `<` compares UTF-16 code units and disagrees for
 * astral characters against U+E000–U+FFFF. Only the sign of the result is meaningful.
 */
export function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const a = left.charCodeAt(index);
    const b = right.charCodeAt(index);
    if (a !== b) return codePointRank(a) - codePointRank(b);
  }
  return left.length - right.length;
}

/**
 * UTF-16 code-unit order equals code-point order except that surrogates (U+D800–U+DFFF, which
 * encode code points above U+FFFF) must sort after U+E000–U+FFFF; this rank fixes exactly that.
 */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}
