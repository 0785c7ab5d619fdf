/**
 * Code points of Unicode White_Space, i.e. what the reference runtime (Rust `str::trim`) strips.
 * `String.prototype.trim` differs (it strips U+FEFF and keeps U+0085), and "blank" checks decide
 * acceptance, so the exact set matters.
 */
const WHITE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** True when `value` is empty after trimming Unicode White_Space (the spec's "blank"). */
export function isBlank(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    if (!WHITE_SPACE.has(value.charCodeAt(index))) return false;
  }
  return true;
}
