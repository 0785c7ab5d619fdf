/**
 * Time-bound exclusive ownership of a key (a run's ingest, a raw partition) shared by every
 * process on one bus. A holder renews well within the TTL; when it dies, its lease runs out and
 * another process acquires the key.
 */
export interface LeaseStore {
  /** Takes `key` for `owner` unless another owner holds it unexpired; true when `owner` now holds it. */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease `owner` holds; false when it was lost (expired and taken, or released). */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once, if `owner` holds it. */
  release(key: string, owner: string): Promise<void>;
  /** Owners of the unexpired leases with keys `<group>.<…>` (e.g. the live workers' heartbeats). */
  owners(group: string): Promise<string[]>;
}

/** Leases of one process (embedded mode). */
export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();

  acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(key);
    if (lease && lease.owner !== owner && lease.expiresAt > Date.now()) return Promise.resolve(false);
    this.leases.set(key, { owner, expiresAt: Date.now() + ttlMs });
    return Promise.resolve(true);
  }

  renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(key);
    if (!lease || lease.owner !== owner) return Promise.resolve(false);
    lease.expiresAt = Date.now() + ttlMs;
    return Promise.resolve(true);
  }

  release(key: string, owner: string): Promise<void> {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
    return Promise.resolve();
  }

  owners(group: string): Promise<string[]> {
    const now = Date.now();
    return Promise.resolve([...this.leases].filter(([key, lease]) => key.startsWith(`${group}.`) && lease.expiresAt > now).map(([, lease]) => lease.owner));
  }
}
