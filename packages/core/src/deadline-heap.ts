/** One entry of a {@link DeadlineHeap}: a key due at `at`. */
export interface Deadline {
  readonly at: number;
  readonly key: string;
}

/**
 * A binary min-heap of deadlines, so the sweep touches only what is due (O(log n) each) instead
 * of every session. Entries are never updated in place: a changed deadline is pushed again and
 * the owner ignores popped entries that no longer match (lazy deletion).
 */
export class DeadlineHeap {
  private readonly items: Deadline[] = [];

  get size(): number {
    return this.items.length;
  }

  push(at: number, key: string): void {
    const items = this.items;
    items.push({ at, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = items[parent] as Deadline;
      if (up.at <= at) break;
      items[i] = up;
      i = parent;
    }
    items[i] = { at, key };
  }

  /** The earliest deadline, if any. */
  peek(): Deadline | undefined {
    return this.items[0];
  }

  /** Removes and returns the earliest deadline. */
  pop(): Deadline | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as Deadline).at < (items[left] as Deadline).at ? right : left;
      const smaller = items[child] as Deadline;
      if (smaller.at >= last.at) break;
      items[i] = smaller;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
