/** A finished session waiting for eviction: it entered the queue at `at`. */
export interface QueuedEviction {
  readonly at: number;
  readonly key: string;
}

/**
 * Finished sessions in the order they finished (or were loaded): times only grow, so a FIFO is
 * already sorted and the sweep pops exactly the ones past the retention, without scanning the
 * rest.
 */
export class EvictionQueue {
  private items: QueuedEviction[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** The oldest entry, if any. */
  peek(): QueuedEviction | undefined {
    return this.items[this.head];
  }

  push(at: number, key: string): void {
    this.items.push({ at, key });
  }

  /** Removes and returns every entry queued before `cutoff`. */
  popBefore(cutoff: number): QueuedEviction[] {
    const popped: QueuedEviction[] = [];
    while (this.head < this.items.length) {
      const item = this.items[this.head] as QueuedEviction;
      if (item.at >= cutoff) break;
      popped.push(item);
      this.head++;
    }
    // Reclaims the consumed prefix once it is most of the array (amortised O(1) per entry).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return popped;
  }
}
