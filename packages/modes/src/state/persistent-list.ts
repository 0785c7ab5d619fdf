/**
 * An immutable append-only list whose `append` costs O(1) when versions are extended one after
 * another: versions share one backing array and each knows its own length. Appending to a
 * version that is no longer the longest (a discarded branch) copies its prefix first.
 */
export class PersistentList<T> implements Iterable<T> {
  private readonly items: T[];
  /** The number of items in this version. */
  readonly length: number;

  private constructor(items: T[], length: number) {
    this.items = items;
    this.length = length;
  }

  /** A new empty list. */
  static empty<T>(): PersistentList<T> {
    return new PersistentList<T>([], 0);
  }

  /** A list holding a copy of `items`. */
  static from<T>(items: readonly T[]): PersistentList<T> {
    return new PersistentList([...items], items.length);
  }

  /** A new version with `item` at the end; this one is unchanged. */
  append(item: T): PersistentList<T> {
    const items = this.items.length === this.length ? this.items : this.items.slice(0, this.length);
    items.push(item);
    return new PersistentList(items, this.length + 1);
  }

  /** The items as a new array. */
  toArray(): T[] {
    return this.items.slice(0, this.length);
  }

  /** Iterates this version's items. */
  *[Symbol.iterator](): Iterator<T> {
    for (let index = 0; index < this.length; index += 1) yield this.items[index] as T;
  }
}
