import { compareCodePoints } from "@macp/protocol";

/** The own keys of `record`, in code-point order (the order of Rust's `BTreeMap` keys). */
export function sortedKeys(record: object): string[] {
  return Object.keys(record).sort(compareCodePoints);
}
