/**
 * Whitespace as the reference runtime (Rust `char::is_whitespace`, Unicode White_Space) sees it.
 * `String.prototype.trim` differs (it strips U+FEFF and keeps U+0085), and "blank" checks decide
 * acceptance, so the exact set matters.
 */
const WHITE_SPACE = /^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$/u;

/** True when `value` is empty after trimming Unicode White_Space (the spec's "blank"). */
export function isBlank(value: string): boolean {
  return WHITE_SPACE.test(value);
}
