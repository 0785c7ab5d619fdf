import type { EventBus, RawBatchHandler } from "../bus/event-bus.js";
import { backoffDelay, sleep } from "../backoff.js";

/** The part of a logger the pipeline writes to (pino fits). */
export interface PipelineLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Settings of a {@link ProjectionRunner}. */
export interface ProjectionRunnerSettings {
  /** This process's lease owner id. */
  readonly owner: string;
  /** How long a partition lease lasts without renewal (renewed every third of it). */
  readonly leaseTtlMs: number;
  /** Most partitions this process consumes at once (the rest are left to other workers). */
  readonly maxPartitions: number;
}

/** The lease key of a raw partition. */
export function partitionLeaseKey(partition: number): string {
  return `partition.${partition}`;
}

/**
 * Runs projectors over the raw partitions whose lease this process holds: for each partition, it
 * acquires the lease, consumes from the oldest unacknowledged record with a fresh projector, and
 * renews the lease; when the lease is lost or the store fails it stops consuming (what was not
 * acknowledged is replayed to the next holder) and tries again. Several processes share the
 * partitions; a dead one's partitions are taken over once its leases expire.
 */
export class ProjectionRunner {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly held = new Set<number>();

  constructor(
    private readonly bus: EventBus,
    private readonly handlerFor: (partition: number) => RawBatchHandler,
    private readonly settings: ProjectionRunnerSettings,
    private readonly logger: PipelineLogger,
  ) {}

  /** Partitions consumed right now. */
  get partitions(): readonly number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  start(): void {
    for (let partition = 0; partition < this.bus.partitions; partition++) this.loops.push(this.loop(partition));
  }

  /** Lets every batch in hand finish (and be acknowledged), then gives the leases back. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async loop(partition: number): Promise<void> {
    const { owner, leaseTtlMs } = this.settings;
    const key = partitionLeaseKey(partition);
    const signal = this.abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      const acquired = this.held.size < this.settings.maxPartitions && (await this.bus.leases.acquire(key, owner, leaseTtlMs).catch(() => false));
      if (!acquired) {
        await sleep(Math.max(50, Math.floor(leaseTtlMs / 3)), signal);
        continue;
      }
      this.held.add(partition);
      const consuming = new AbortController();
      const stopConsuming = (): void => consuming.abort();
      signal.addEventListener("abort", stopConsuming, { once: true });
      const renewal = setInterval(() => {
        this.bus.leases.renew(key, owner, leaseTtlMs).then(
          (kept) => {
            if (!kept) {
              this.logger.warn({ partition }, "partition lease lost; stopping its projector");
              consuming.abort();
            }
          },
          () => consuming.abort(),
        );
      }, Math.max(50, Math.floor(leaseTtlMs / 3)));
      let failed = false;
      try {
        await this.bus.consumeRaw(partition, this.handlerFor(partition), consuming.signal);
        attempt = 0;
      } catch (error) {
        failed = true;
        this.logger.warn({ partition, detail: error instanceof Error ? error.message : String(error) }, "projector failed; replaying the partition from its oldest unacknowledged record");
      } finally {
        clearInterval(renewal);
        signal.removeEventListener("abort", stopConsuming);
        this.held.delete(partition);
      }
      if (failed || signal.aborted) await this.bus.leases.release(key, owner).catch(() => undefined);
      if (failed) {
        await sleep(backoffDelay(attempt, 100, 5_000), signal);
        attempt += 1;
      }
    }
  }
}
