import { EventEmitter } from "node:events";
import { partitionOf } from "./event-bus.js";
import type { BusStatus, EventBus, EventsUpdate, RawBatchHandler, RawRecord } from "./event-bus.js";
import { MemoryLeaseStore } from "./lease-store.js";
import { rawMessageId } from "./subjects.js";

/** Most records handed to a handler at once. */
const MAX_BATCH = 1_000;

interface Entry {
  readonly record: RawRecord;
  acked: boolean;
  deliveries: number;
}

class MemoryPartition {
  entries: Entry[] = [];
  /** Index of the next entry to hand out. */
  next = 0;
  private wake: (() => void) | undefined;

  push(entry: Entry): void {
    this.entries.push(entry);
    this.wake?.();
  }

  /** Resolves when a record arrives or `signal` aborts. */
  arrival(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Forgets the acknowledged head so memory follows the backlog, not the history. */
  compact(): void {
    let acked = 0;
    while (acked < this.entries.length && this.entries[acked]?.acked) acked += 1;
    if (acked < 1_024 && acked < this.entries.length) return;
    this.entries = this.entries.slice(acked);
    this.next = Math.max(0, this.next - acked);
  }
}

/**
 * The bus of embedded mode: everything in one process, nothing survives it (the database is the
 * durable record; after a restart ingest resumes from the stored runtime cursor). Same contract
 * as the JetStream bus: per-partition order, redelivery from the oldest unacknowledged record to
 * a new consumer, envelope deduplication by run and runtime sequence within a window.
 */
export class MemoryBus implements EventBus {
  readonly kind = "memory";
  readonly leases = new MemoryLeaseStore();
  private readonly parts: MemoryPartition[];
  private readonly emitter = new EventEmitter();
  private readonly recent = new Map<string, number>();

  constructor(
    readonly partitions: number,
    private readonly dedupeWindowMs: number,
  ) {
    this.parts = Array.from({ length: partitions }, () => new MemoryPartition());
    this.emitter.setMaxListeners(0);
  }

  publishRaw(records: readonly RawRecord[]): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.recent) {
      if (now - at <= this.dedupeWindowMs) break;
      this.recent.delete(id);
    }
    for (const record of records) {
      const id = rawMessageId(record);
      if (id !== undefined) {
        if (this.recent.has(id)) continue;
        this.recent.set(id, now);
      }
      this.part(partitionOf(record.runId, this.partitions)).push({ record, acked: false, deliveries: 0 });
    }
    return Promise.resolve();
  }

  async consumeRaw(partition: number, handler: RawBatchHandler, signal: AbortSignal): Promise<void> {
    const part = this.part(partition);
    // A new consumer starts again from the oldest unacknowledged record.
    part.next = 0;
    while (!signal.aborted) {
      part.compact();
      const batch: Entry[] = [];
      while (part.next < part.entries.length && batch.length < MAX_BATCH) {
        const entry = part.entries[part.next] as Entry;
        part.next += 1;
        if (!entry.acked) batch.push(entry);
      }
      if (batch.length === 0) {
        await part.arrival(signal);
        continue;
      }
      await handler(
        batch.map((entry) => {
          entry.deliveries += 1;
          return {
            record: entry.record,
            redelivered: entry.deliveries > 1,
            ack: () => {
              entry.acked = true;
            },
          };
        }),
      );
    }
  }

  pendingRaw(partition: number): Promise<number> {
    return Promise.resolve(this.part(partition).entries.filter((entry) => !entry.acked).length);
  }

  publishEvents(update: EventsUpdate): Promise<void> {
    if (update.events.length > 0) this.emitter.emit(update.runId, update);
    return Promise.resolve();
  }

  subscribeEvents(runId: string, listener: (update: EventsUpdate) => void): () => void {
    this.emitter.on(runId, listener);
    return () => this.emitter.off(runId, listener);
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }

  status(): Promise<BusStatus> {
    return Promise.resolve({ kind: "memory", ok: true, connection: "in-process", streams: {} });
  }

  close(): Promise<void> {
    this.emitter.removeAllListeners();
    return Promise.resolve();
  }

  private part(partition: number): MemoryPartition {
    const part = this.parts[partition];
    if (!part) throw new RangeError(`partition ${partition} is not in 0..${this.partitions - 1}`);
    return part;
  }
}
