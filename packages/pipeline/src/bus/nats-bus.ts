import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, JsMsg, StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { partitionOf } from "./event-bus.js";
import type { BusStatus, EventBus, EventsUpdate, RawBatchHandler, RawDelivery, RawRecord } from "./event-bus.js";
import { NatsLeaseStore } from "./nats-lease-store.js";
import type { BusNames } from "./subjects.js";
import { busNames, decodeEventsUpdate, decodeRawRecord, encodeEventsUpdate, encodeRawRecord, eventsMessageId, rawMessageId } from "./subjects.js";

/** Settings of the JetStream bus. */
export interface NatsBusOptions {
  /** Server URL(s), comma-separated (`nats://127.0.0.1:4222`). */
  readonly url: string;
  /** Prefix of every stream, subject, consumer and bucket name. */
  readonly prefix: string;
  readonly partitions: number;
  /** JetStream's `duplicate_window` for raw envelopes and published events. */
  readonly dedupeWindowMs: number;
  /** Connection name shown by the server (`nats server report connections`). */
  readonly name: string;
  /** How long a delivered raw record may stay unacknowledged before JetStream hands it out again. */
  readonly ackWaitMs?: number;
  /** How long committed canonical events stay on the events stream for late live subscribers. */
  readonly eventsMaxAgeMs?: number;
}

const MS = 1_000_000;
/** Most raw records handed to the projector at once. */
const MAX_BATCH = 1_000;
/** Unacknowledged raw records a partition's consumer may have out (bounds a projector's memory). */
const MAX_ACK_PENDING = 10_000;

/**
 * The event pipeline on NATS JetStream. Declares in code, idempotently, at connect:
 * - stream `<prefix>_RAW` (work queue, file storage), subjects `<prefix>.raw.<partition>.<runId>`,
 *   deduplicated by `Nats-Msg-Id` `<runId>:<runtimeSequence>` for envelopes;
 * - per partition a durable pull consumer `<prefix>_projector_<partition>` (explicit acks),
 *   recreated by each new holder of the partition so delivery restarts at the oldest
 *   unacknowledged record, in stream order;
 * - stream `<prefix>_EVENTS` (limits, short max age), subjects `<prefix>.events.<runId>`, one
 *   message per committed update, `Nats-Msg-Id` `<runId>:<firstSeq>-<lastSeq>`; live subscribers
 *   use core subscriptions on the run's subject;
 * - KV bucket `<prefix>_leases` (history 1) for leases.
 */
export class NatsBus implements EventBus {
  readonly kind = "nats";
  readonly partitions: number;
  readonly leases: NatsLeaseStore;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: BusNames,
    leases: NatsLeaseStore,
    private readonly options: NatsBusOptions,
  ) {
    this.partitions = options.partitions;
    this.leases = leases;
  }

  /** Connects (retrying reconnects for ever once connected) and declares streams and the lease bucket. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const names = busNames(options.prefix);
    const nc = await connect({ servers: options.url.split(",").map((url) => url.trim()), name: options.name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, {
        name: names.rawStream,
        subjects: [`${options.prefix}.raw.>`],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: options.dedupeWindowMs * MS,
      });
      await ensureStream(jsm, {
        name: names.eventsStream,
        subjects: [`${options.prefix}.events.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: (options.eventsMaxAgeMs ?? 600_000) * MS,
        duplicate_window: Math.min(options.dedupeWindowMs, options.eventsMaxAgeMs ?? 600_000) * MS,
      });
      const kv = await new Kvm(nc).create(names.leaseBucket, { history: 1 });
      return new NatsBus(nc, jetstream(nc), jsm, names, new NatsLeaseStore(kv), options);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  async publishRaw(records: readonly RawRecord[]): Promise<void> {
    // Pipelined in order on one connection; a failure rejects and the caller re-publishes from
    // its cursor (what did land is dropped by deduplication or recognised by the projector).
    await Promise.all(
      records.map((record) => {
        const msgID = rawMessageId(record);
        return this.js.publish(this.names.rawSubject(partitionOf(record.runId, this.partitions), record.runId), encodeRawRecord(record), msgID !== undefined ? { msgID } : {});
      }),
    );
  }

  async consumeRaw(partition: number, handler: RawBatchHandler, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const name = this.names.projectorConsumer(partition);
    // A fresh consumer starts at the oldest record still in the work queue: whatever a previous
    // holder had in hand unacknowledged comes first, in stream order.
    await this.jsm.consumers.delete(this.names.rawStream, name).catch(() => false);
    await this.jsm.consumers.add(this.names.rawStream, {
      durable_name: name,
      filter_subject: this.names.rawPartitionFilter(partition),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: (this.options.ackWaitMs ?? 30_000) * MS,
      max_ack_pending: MAX_ACK_PENDING,
    });
    const consumer = await this.js.consumers.get(this.names.rawStream, name);
    const messages = await consumer.consume({ max_messages: MAX_BATCH });
    const stop = (): void => void messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    const buffer: JsMsg[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: unknown;
    const reading = (async () => {
      try {
        for await (const message of messages) {
          buffer.push(message);
          wake?.();
        }
      } catch (error) {
        failure = error;
      } finally {
        ended = true;
        wake?.();
      }
    })();
    try {
      // Group commit: while the handler works, arrivals queue and form the next batch.
      while (!signal.aborted) {
        if (buffer.length === 0) {
          if (ended) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const deliveries = buffer.splice(0, MAX_BATCH).flatMap(toDelivery);
        if (deliveries.length > 0) await handler(deliveries);
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await messages.close().catch(() => undefined);
      await reading;
    }
    if (failure !== undefined && !signal.aborted) throw failure instanceof Error ? failure : new Error(String(failure));
    if (!signal.aborted) throw new Error(`raw partition ${partition}: the consumer ended`);
  }

  async pendingRaw(partition: number): Promise<number> {
    const info = await this.jsm.consumers.info(this.names.rawStream, this.names.projectorConsumer(partition)).catch(() => undefined);
    return info ? info.num_pending + info.num_ack_pending : 0;
  }

  async publishEvents(update: EventsUpdate): Promise<void> {
    if (update.events.length === 0) return;
    await this.js.publish(this.names.eventsSubject(update.runId), encodeEventsUpdate(update), { msgID: eventsMessageId(update) });
  }

  subscribeEvents(runId: string, listener: (update: EventsUpdate) => void): () => void {
    const subscription = this.nc.subscribe(this.names.eventsSubject(runId), {
      callback: (error, message) => {
        if (error) return;
        let update: EventsUpdate;
        try {
          update = decodeEventsUpdate(message.data);
        } catch {
          return;
        }
        listener(update);
      },
    });
    return () => subscription.unsubscribe();
  }

  async healthy(): Promise<boolean> {
    if (this.nc.isClosed()) return false;
    try {
      await this.nc.flush();
      return true;
    } catch {
      return false;
    }
  }

  async status(timeoutMs: number): Promise<BusStatus> {
    const names = [this.names.rawStream, this.names.eventsStream, `KV_${this.names.leaseBucket}`];
    const none = Object.fromEntries(names.map((name) => [name, false]));
    if (this.nc.isClosed()) return { kind: "nats", ok: false, connection: "closed", streams: none };
    // While the client reconnects, requests wait for the connection: the deadline bounds them.
    const probe = async (): Promise<BusStatus> => {
      await this.nc.flush();
      const found = await Promise.all(names.map((name) => this.jsm.streams.info(name).then(() => true, () => false)));
      const streams = Object.fromEntries(names.map((name, index) => [name, found[index] as boolean]));
      return { kind: "nats", ok: found.every(Boolean), connection: "connected", streams };
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<BusStatus>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "nats", ok: false, connection: "unreachable", streams: none }), timeoutMs);
    });
    try {
      return await Promise.race([probe().catch((): BusStatus => ({ kind: "nats", ok: false, connection: "unreachable", streams: none })), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/** A message as a delivery; one that is not a raw record can never be applied and is terminated. */
function toDelivery(message: JsMsg): RawDelivery[] {
  let record: RawRecord;
  try {
    record = decodeRawRecord(message.data);
  } catch {
    message.term();
    return [];
  }
  return [{ record, redelivered: message.redelivered, ack: () => message.ack() }];
}

/** Creates the stream, or brings an existing one to `config` (both idempotent). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch {
    // It exists with another configuration (e.g. a changed dedupe window): update in place.
    await jsm.streams.update(config.name, config);
  }
}
