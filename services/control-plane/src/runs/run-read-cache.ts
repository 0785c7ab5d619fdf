import type { ApiRun } from "./run-record.js";

/** Subscribes to a run's committed updates on the bus; returns the unsubscribe function. */
export type RunUpdateSubscriber = (runId: string, listener: () => void) => () => void;

/** Settings of a {@link RunReadCache}. */
export interface RunReadCacheSettings {
  /** Longest time an entry is served without a re-read (bounds what no event announces: archive, delete on another instance); 0 disables the cache. */
  readonly ttlMs: number;
  /** Most runs kept; the oldest entry goes first. */
  readonly maxEntries: number;
}

interface Entry {
  value: ApiRun | undefined;
  loadedAt: number;
  /** Bumped by every invalidation: a read that started before one is not kept. */
  generation: number;
  loading: Promise<ApiRun | undefined> | undefined;
  readonly unsubscribe: () => void;
}

/**
 * Per-instance cache of `GET /runs/:id`. Every change of a run's status or seq commits canonical
 * events, and every committed update is published on the bus to every instance: an entry is
 * dropped when its run's update arrives (this instance's own commits drop it synchronously,
 * before the update leaves), so a status an instance has seen change is never served stale. The
 * entry subscribes before its first read, and a read overlapped by an invalidation is not kept,
 * so an update committed during the read cannot be missed. Changes without events (archive,
 * delete) drop the entry on the instance that made them; other instances re-read within `ttlMs`.
 */
export class RunReadCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly subscribe: RunUpdateSubscriber,
    private readonly settings: RunReadCacheSettings,
  ) {}

  /** The run as `load` reads it, or as cached; `undefined` (unknown run) is never cached. */
  async get(runId: string, load: () => Promise<ApiRun | undefined>): Promise<ApiRun | undefined> {
    if (this.settings.ttlMs === 0) return load();
    let entry = this.entries.get(runId);
    if (entry?.value !== undefined && Date.now() - entry.loadedAt < this.settings.ttlMs) return entry.value;
    if (entry?.loading !== undefined) return entry.loading;
    if (entry === undefined) {
      entry = { value: undefined, loadedAt: 0, generation: 0, loading: undefined, unsubscribe: this.subscribe(runId, () => this.invalidate(runId)) };
      this.entries.set(runId, entry);
      this.evict();
    }
    const current = entry;
    const generation = current.generation;
    const loading = load().then(
      (value) => {
        if (current.loading === loading) current.loading = undefined;
        if (value === undefined) {
          if (current.generation === generation) this.drop(runId, current);
        } else if (current.generation === generation && this.entries.get(runId) === current) {
          current.value = value;
          current.loadedAt = Date.now();
        }
        return value;
      },
      (error: unknown) => {
        if (current.loading === loading) current.loading = undefined;
        throw error;
      },
    );
    current.loading = loading;
    return loading;
  }

  /** Forgets what is cached of `runId` (its update was committed or announced). */
  invalidate(runId: string): void {
    const entry = this.entries.get(runId);
    if (entry === undefined) return;
    entry.generation += 1;
    entry.value = undefined;
    entry.loading = undefined;
  }

  /** Drops every entry and its subscription. */
  close(): void {
    for (const [runId, entry] of this.entries) this.drop(runId, entry);
  }

  private drop(runId: string, entry: Entry): void {
    if (this.entries.get(runId) !== entry) return;
    this.entries.delete(runId);
    entry.unsubscribe();
  }

  private evict(): void {
    while (this.entries.size > this.settings.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (oldest === undefined) return;
      this.drop(oldest[0], oldest[1]);
    }
  }
}
