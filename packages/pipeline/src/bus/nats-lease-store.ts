import type { KV } from "@nats-io/kv";
import type { LeaseStore } from "./lease-store.js";

interface LeaseValue {
  readonly owner: string;
  readonly expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Leases in a JetStream KV bucket, every write a compare-and-set on the entry's revision: of two
 * processes racing for a free or expired lease exactly one write succeeds. Expiry compares wall
 * clocks, so processes sharing a bucket need clocks within a fraction of the TTL (NTP).
 */
export class NatsLeaseStore implements LeaseStore {
  constructor(private readonly kv: KV) {}

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const value = encoder.encode(JSON.stringify({ owner, expiresAt: Date.now() + ttlMs } satisfies LeaseValue));
    const entry = await this.kv.get(key);
    try {
      if (!entry || entry.operation !== "PUT") {
        await this.kv.create(key, value);
        return true;
      }
      const lease = parse(entry.value);
      if (lease && lease.owner !== owner && lease.expiresAt > Date.now()) return false;
      await this.kv.update(key, value, entry.revision);
      return true;
    } catch {
      // Another process wrote first (wrong last revision): it holds the lease.
      return false;
    }
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT" || parse(entry.value)?.owner !== owner) return false;
    try {
      await this.kv.update(key, encoder.encode(JSON.stringify({ owner, expiresAt: Date.now() + ttlMs } satisfies LeaseValue)), entry.revision);
      return true;
    } catch {
      return false;
    }
  }

  async release(key: string, owner: string): Promise<void> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT" || parse(entry.value)?.owner !== owner) return;
    // Only the revision read is deleted: a lease taken over meanwhile stays.
    await this.kv.delete(key, { previousSeq: entry.revision }).catch(() => undefined);
  }

  async owners(group: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(`${group}.>`)) keys.push(key);
    const now = Date.now();
    const leases = await Promise.all(keys.map(async (key) => {
      const entry = await this.kv.get(key);
      return entry && entry.operation === "PUT" ? parse(entry.value) : undefined;
    }));
    return leases.filter((lease): lease is LeaseValue => lease !== undefined && lease.expiresAt > now).map((lease) => lease.owner);
  }
}

function parse(bytes: Uint8Array): LeaseValue | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Partial<LeaseValue>;
    return typeof value.owner === "string" && typeof value.expiresAt === "number" ? { owner: value.owner, expiresAt: value.expiresAt } : undefined;
  } catch {
    return undefined;
  }
}
