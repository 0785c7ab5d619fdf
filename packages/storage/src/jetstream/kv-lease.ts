import type { KV } from "@nats-io/kv";

interface LeaseValue {
  readonly owner: string;
  readonly expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Leases in a JetStream KV bucket for work one runtime replica does at a time (the expiry
 * sweep). Every write is a compare-and-set on the entry's revision, so of two replicas racing
 * for a free or expired lease exactly one gets it. Expiry compares wall clocks: replicas need
 * clocks within a fraction of the TTL (NTP).
 */
export class KvLeases {
  constructor(private readonly kv: KV) {}

  /** Takes the lease when free, expired or already ours (renewing it); false while another holds it. */
  async hold(key: string, owner: string, ttlMs: number): Promise<boolean> {
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
      // Another replica wrote first (wrong last revision): it holds the lease.
      return false;
    }
  }

  /** Gives the lease up if we still hold it. */
  async release(key: string, owner: string): Promise<void> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT" || parse(entry.value)?.owner !== owner) return;
    await this.kv.delete(key, { previousSeq: entry.revision }).catch(() => undefined);
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
