/** A minimal synchronous fan-out of typed events; listeners run in publication order. */
export class EventHub<T> {
  private readonly listeners = new Set<(event: T) => void>();

  /** Adds a listener; returns its unsubscribe function. */
  subscribe(listener: (event: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers to every listener; one that throws never keeps the event from the others. */
  publish(event: T): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's own failure is its concern; the publisher has already committed the event.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** Keyed fan-out: one hub per key, created on first subscription and dropped when empty. */
export class KeyedEventHub<T> {
  private readonly hubs = new Map<string, EventHub<T>>();

  subscribe(key: string, listener: (event: T) => void): () => void {
    let hub = this.hubs.get(key);
    if (!hub) {
      hub = new EventHub<T>();
      this.hubs.set(key, hub);
    }
    const unsubscribe = hub.subscribe(listener);
    return () => {
      unsubscribe();
      if (hub.size === 0 && this.hubs.get(key) === hub) this.hubs.delete(key);
    };
  }

  publish(key: string, event: T): void {
    this.hubs.get(key)?.publish(event);
  }

  /** Number of listeners across all keys. */
  get size(): number {
    let total = 0;
    for (const hub of this.hubs.values()) total += hub.size;
    return total;
  }
}
