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

/** Lease group of the runners' heartbeats: `worker.<owner>`, owned by `<owner>:<maxPartitions>`. */
const HEARTBEATS = "worker";

/**
 * This runner's share of the partitions: the partitions spread as evenly as the live runners'
 * limits allow (`live` are their heartbeats, `<owner>:<maxPartitions>`). Every runner computes the
 * same split from the same heartbeats: ascending by limit, then owner, each takes at most its
 * limit and at most an even part of what is left.
 */
export function fairShare(partitions: number, live: readonly string[], self: string, maxPartitions: number): number {
  const runners = new Map<string, number>([[self, maxPartitions]]);
  for (const heartbeat of live) {
    const at = heartbeat.lastIndexOf(":");
    const limit = Number(heartbeat.slice(at + 1));
    if (at > 0 && Number.isSafeInteger(limit) && limit > 0) runners.set(heartbeat.slice(0, at), limit);
  }
  const order = [...runners].sort(([a, limitA], [b, limitB]) => limitA - limitB || (a < b ? -1 : a > b ? 1 : 0));
  let left = partitions;
  for (const [index, [owner, limit]] of order.entries()) {
    const share = Math.min(limit, Math.ceil(left / (order.length - index)));
    if (owner === self) return share;
    left -= share;
  }
  return 0;
}

/**
 * Runs projectors over the raw partitions whose lease this process holds: for each partition, it
 * acquires the lease, consumes from the oldest unacknowledged record with a fresh projector, and
 * renews the lease; when the lease is lost or the store fails it stops consuming (what was not
 * acknowledged is replayed to the next holder) and tries again. Runners share the partitions
 * fairly: each keeps a heartbeat lease, counts the live runners, and holds at most its
 * {@link fairShare}; a runner above its share (another one joined) finishes the batch in hand of
 * its extra partitions and releases them. A dead runner's heartbeat and partitions expire and the
 * others take them over.
 */
export class ProjectionRunner {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly held = new Set<number>();
  /** Held partitions being given up (the batch in hand finishes first). */
  private readonly yielding = new Set<number>();
  private readonly consumers = new Map<number, AbortController>();
  /** Lease acquisitions in flight, counted against the share. */
  private acquiring = 0;
  private share: number;

  constructor(
    private readonly bus: EventBus,
    private readonly handlerFor: (partition: number) => RawBatchHandler,
    private readonly settings: ProjectionRunnerSettings,
    private readonly logger: PipelineLogger,
  ) {
    // Until the live runners are counted (start() does it first, unless the lease store is down).
    this.share = Math.min(settings.maxPartitions, bus.partitions);
  }

  /** Partitions consumed right now. */
  get partitions(): readonly number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** Starts the heartbeat and one lease loop per partition; resolves once the live runners were counted. */
  async start(): Promise<void> {
    await this.beat();
    this.loops.push(this.balance());
    for (let partition = 0; partition < this.bus.partitions; partition++) this.loops.push(this.loop(partition));
  }

  /** Lets every batch in hand finish (and be acknowledged), then gives the leases back. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    await this.bus.leases.release(this.heartbeatKey, this.heartbeat).catch(() => undefined);
  }

  private get heartbeatKey(): string {
    return `${HEARTBEATS}.${this.settings.owner}`;
  }

  /** The heartbeat's owner: this runner and its limit, read by the others' {@link fairShare}. */
  private get heartbeat(): string {
    return `${this.settings.owner}:${this.settings.maxPartitions}`;
  }

  private get period(): number {
    return Math.max(50, Math.floor(this.settings.leaseTtlMs / 3));
  }

  /** Renews the heartbeat, counts the live runners and gives up partitions above the share. */
  private async beat(): Promise<void> {
    const { owner, leaseTtlMs, maxPartitions } = this.settings;
    try {
      await this.bus.leases.acquire(this.heartbeatKey, this.heartbeat, leaseTtlMs);
      this.share = fairShare(this.bus.partitions, await this.bus.leases.owners(HEARTBEATS), owner, maxPartitions);
    } catch (error) {
      this.logger.warn({ detail: error instanceof Error ? error.message : String(error) }, "could not count the live projection runners");
      return;
    }
    let extra = this.held.size - this.yielding.size - this.share;
    for (const partition of [...this.held].sort((a, b) => b - a)) {
      if (extra <= 0) break;
      if (this.yielding.has(partition)) continue;
      this.yielding.add(partition);
      this.consumers.get(partition)?.abort();
      extra -= 1;
    }
  }

  private async balance(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await sleep(this.period, signal);
      if (!signal.aborted) await this.beat();
    }
  }

  private async loop(partition: number): Promise<void> {
    const { owner, leaseTtlMs } = this.settings;
    const key = partitionLeaseKey(partition);
    const signal = this.abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let acquired = false;
      if (this.held.size + this.acquiring < this.share) {
        this.acquiring += 1;
        acquired = await this.bus.leases.acquire(key, owner, leaseTtlMs).catch(() => false);
        this.acquiring -= 1;
      }
      if (!acquired) {
        await sleep(this.period, signal);
        continue;
      }
      this.held.add(partition);
      const consuming = new AbortController();
      this.consumers.set(partition, consuming);
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
      }, this.period);
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
        this.consumers.delete(partition);
      }
      const yielded = this.yielding.delete(partition);
      // Released before it counts as no longer held, so no acquisition here overtakes the release.
      if (failed || yielded || signal.aborted) await this.bus.leases.release(key, owner).catch(() => undefined);
      this.held.delete(partition);
      if (failed) {
        await sleep(backoffDelay(attempt, 100, 5_000), signal);
        attempt += 1;
      } else if (yielded) {
        // Another runner's turn: it takes the partition within its next lease attempt.
        await sleep(this.period, signal);
      }
    }
  }
}
