/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings and so the
 * order of Rust's `String` / `BTreeMap` keys. Plain `<` compares UTF-16 code units and disagrees for
 * astral characters against U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(j) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

/** The own keys of `record`, in code-point order. */
export function sortedKeys(record: object): string[] {
  return Object.keys(record).sort(compareCodePoints);
}
