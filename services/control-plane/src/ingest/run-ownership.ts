import type { LeaseStore } from "@macp/pipeline";

/** The lease key of a run's ingest (who drives the run and follows its session). */
export function runLeaseKey(runId: string): string {
  return `run.${runId}`;
}

/**
 * Which runs this instance drives and ingests: a lease per run in the bus's {@link LeaseStore}
 * (a JetStream KV bucket with revision compare-and-set across instances, or in memory in embedded
 * mode), so exactly one instance follows a run's session at a time. A dead holder's leases run
 * out after the TTL and another instance takes the runs over.
 */
export class RunOwnership {
  private readonly held = new Set<string>();

  constructor(
    private readonly leases: LeaseStore,
    /** This instance's lease owner id. */
    readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /** Runs held right now. */
  get runs(): readonly string[] {
    return [...this.held];
  }

  holds(runId: string): boolean {
    return this.held.has(runId);
  }

  /** Takes the run unless another live instance holds it; true when this instance now holds it. */
  async acquire(runId: string): Promise<boolean> {
    const taken = await this.leases.acquire(runLeaseKey(runId), this.owner, this.ttlMs);
    if (taken) this.held.add(runId);
    return taken;
  }

  /** Renews every held lease; returns the runs whose lease was lost (expired and taken, or unreachable). */
  async renew(): Promise<string[]> {
    const held = [...this.held];
    const kept = await Promise.all(held.map((runId) => this.leases.renew(runLeaseKey(runId), this.owner, this.ttlMs).catch(() => false)));
    const lost = held.filter((_, index) => !kept[index]);
    for (const runId of lost) this.held.delete(runId);
    return lost;
  }

  /** Gives a run up at once (finished, deleted, or this instance stops). */
  async release(runId: string): Promise<void> {
    if (!this.held.delete(runId)) return;
    await this.leases.release(runLeaseKey(runId), this.owner).catch(() => undefined);
  }

  /** Gives every run up, so other instances take them over without waiting for the TTL. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((runId) => this.release(runId)));
  }
}
