/** Marks a key that a version of the map does not hold. */
const ABSENT: unique symbol = Symbol("absent");

type Node<K, V> =
  | { readonly kind: "root"; readonly map: Map<K, V> }
  | { readonly kind: "diff"; readonly key: K; readonly value: V | typeof ABSENT; readonly next: PersistentMap<K, V> };

/**
 * An immutable map whose `set` and `delete` cost O(1) when versions are used one after another,
 * as a mode's state is (Baker's rerooting: the newest version owns one shared `Map`, every older
 * version is the one-key difference to the version made from it). Reading an older version moves
 * the shared `Map` back to it, so every version stays correct whatever order they are read in;
 * a version nothing refers to any more is garbage collected. Iteration order is unspecified:
 * callers sort when order matters.
 */
export class PersistentMap<K, V> {
  private node: Node<K, V>;

  private constructor(node: Node<K, V>) {
    this.node = node;
  }

  /** A new empty map (never shared, so sessions do not reroot each other's maps). */
  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ kind: "root", map: new Map() });
  }

  /** A map holding `entries` (later duplicates win). */
  static from<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ kind: "root", map: new Map(entries) });
  }

  /** The shared `Map`, made to hold exactly this version's entries. */
  private current(): Map<K, V> {
    if (this.node.kind === "root") return this.node.map;
    // path[i + 1] is the version path[i]'s difference refers to; the last one owns the Map.
    const path: PersistentMap<K, V>[] = [this];
    let node: Node<K, V> = this.node;
    while (node.kind === "diff") {
      path.push(node.next);
      node = node.next.node;
    }
    const map = node.map;
    for (let index = path.length - 2; index >= 0; index -= 1) {
      const version = path[index] as PersistentMap<K, V>;
      const diff = version.node as Extract<Node<K, V>, { kind: "diff" }>;
      const undo = map.has(diff.key) ? (map.get(diff.key) as V) : ABSENT;
      if (diff.value === ABSENT) map.delete(diff.key);
      else map.set(diff.key, diff.value);
      diff.next.node = { kind: "diff", key: diff.key, value: undo, next: version };
      version.node = { kind: "root", map };
    }
    return map;
  }

  private derive(key: K, value: V | typeof ABSENT): PersistentMap<K, V> {
    const map = this.current();
    const undo = map.has(key) ? (map.get(key) as V) : ABSENT;
    if (value === ABSENT) map.delete(key);
    else map.set(key, value);
    const next = new PersistentMap<K, V>({ kind: "root", map });
    this.node = { kind: "diff", key, value: undo, next };
    return next;
  }

  /** The number of entries. */
  get size(): number {
    return this.current().size;
  }

  /** The value under `key`, if any. */
  get(key: K): V | undefined {
    return this.current().get(key);
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    return this.current().has(key);
  }

  /** A new version with `key` set to `value`; this one is unchanged. */
  set(key: K, value: V): PersistentMap<K, V> {
    return this.derive(key, value);
  }

  /** A new version without `key`; this one is unchanged. */
  delete(key: K): PersistentMap<K, V> {
    return this.has(key) ? this.derive(key, ABSENT) : this;
  }

  /** The keys, in unspecified order. */
  keys(): K[] {
    return [...this.current().keys()];
  }

  /** The values, in unspecified order. */
  values(): V[] {
    return [...this.current().values()];
  }

  /** The entries, in unspecified order. */
  entries(): [K, V][] {
    return [...this.current().entries()];
  }
}
