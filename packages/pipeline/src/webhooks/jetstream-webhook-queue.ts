import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, StreamConfig } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { BUS_PREFIX_PATTERN } from "../bus/subjects.js";

/**
 * Names of the webhook queue on JetStream, derived from the bus prefix (`BUS_PREFIX`):
 * - stream `<prefix>_WEBHOOKS` (work queue, file storage), subject `<prefix>.webhooks.deliver`,
 *   one message per delivery id (`Nats-Msg-Id` = the delivery id);
 * - durable pull consumer `<prefix>_webhook_dispatch` on it (explicit acks, shared by every
 *   dispatching instance);
 * - stream `<prefix>_WEBHOOKS_DEAD` (limits, 30 days), subject `<prefix>.webhooks.dead`: one
 *   message per delivery that failed its last attempt.
 */
export interface WebhookQueueNames {
  readonly stream: string;
  readonly subject: string;
  readonly consumer: string;
  readonly deadStream: string;
  readonly deadSubject: string;
}

/** The webhook queue names for `prefix`. */
export function webhookQueueNames(prefix: string): WebhookQueueNames {
  if (!BUS_PREFIX_PATTERN.test(prefix)) throw new RangeError(`bus prefix "${prefix}" must match ${BUS_PREFIX_PATTERN.source}`);
  return {
    stream: `${prefix}_WEBHOOKS`,
    subject: `${prefix}.webhooks.deliver`,
    consumer: `${prefix}_webhook_dispatch`,
    deadStream: `${prefix}_WEBHOOKS_DEAD`,
    deadSubject: `${prefix}.webhooks.dead`,
  };
}

/** What became of one delivery message. */
export type WebhookVerdict =
  /** Finished (delivered, or nothing left to do): the message is acknowledged. */
  | { readonly kind: "done" }
  /** Handed out again after `delayMs` (a retry, or a delivery not due yet). */
  | { readonly kind: "later"; readonly delayMs: number }
  /** The last attempt failed: a dead letter is published, then the message is acknowledged. */
  | { readonly kind: "dead"; readonly reason: string };

/** Decides about one delivery id; a throw hands the message out again after a short delay. */
export type WebhookMessageHandler = (deliveryId: string, redelivered: boolean) => Promise<WebhookVerdict>;

/** A dead letter as stored on `<prefix>.webhooks.dead`. */
export interface WebhookDeadLetter {
  readonly deliveryId: string;
  readonly reason: string;
  /** When the last attempt failed (ISO). */
  readonly deadAt: string;
}

/** Settings of a {@link JetStreamWebhookQueue}. */
export interface JetStreamWebhookQueueOptions {
  /** Server URL(s), comma-separated. */
  readonly url: string;
  readonly prefix: string;
  /** Connection name shown by the server. */
  readonly name: string;
  /** `duplicate_window`: a delivery id published again within it is dropped. */
  readonly dedupeWindowMs: number;
  /** How long a handed-out message may go without an ack or a progress signal before it is handed out again (a dead consumer's messages); used by consumers. */
  readonly ackWaitMs: number;
}

const MS = 1_000_000;
const DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000;
/** Delay before a message whose handler threw is handed out again. */
const ERROR_RETRY_MS = 1_000;

/**
 * Webhook deliveries on JetStream: any process that commits deliveries publishes their ids; the
 * dispatching instances consume them from one durable consumer, at least once. A message stays
 * unacknowledged while its attempt runs (with progress signals), so a process that dies between
 * taking a message and acknowledging it leaves it to be handed out again after `ackWaitMs`.
 * Retries are negative acknowledgements with the backoff delay; after the last failed attempt a
 * dead letter is published before the message is acknowledged. The delivery log itself is kept
 * by the handler (in Postgres).
 */
export class JetStreamWebhookQueue {
  readonly names: WebhookQueueNames;
  private messages: ConsumerMessages | undefined;
  private reading: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamWebhookQueueOptions,
  ) {
    this.names = webhookQueueNames(options.prefix);
  }

  /** Connects and declares both streams (idempotent); {@link consume} declares the consumer. */
  static async connect(options: JetStreamWebhookQueueOptions): Promise<JetStreamWebhookQueue> {
    const names = webhookQueueNames(options.prefix);
    const nc = await connect({ servers: options.url.split(",").map((url) => url.trim()), name: options.name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, {
        name: names.stream,
        subjects: [names.subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: options.dedupeWindowMs * MS,
      });
      await ensureStream(jsm, {
        name: names.deadStream,
        subjects: [names.deadSubject],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: DEAD_LETTER_MAX_AGE_MS * MS,
        duplicate_window: options.dedupeWindowMs * MS,
      });
      return new JetStreamWebhookQueue(nc, jetstream(nc), jsm, options);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /**
   * Publishes delivery ids (committed deliveries); each is handed to a consumer at least once.
   * A publication of an id within the dedupe window is dropped unless it names a different
   * `occasion` (a redelivery, a republish of a lost message).
   */
  async publish(deliveryIds: readonly string[], occasion?: string): Promise<void> {
    await Promise.all(deliveryIds.map((id) => this.js.publish(this.names.subject, id, { msgID: occasion === undefined ? id : `${id}:${occasion}` })));
  }

  /**
   * Hands messages to `handler`, at most `concurrency` at a time, until {@link stop}. The
   * handler's verdict acknowledges the message, hands it out again later, or dead-letters it.
   */
  async consume(handler: WebhookMessageHandler, concurrency: number): Promise<void> {
    if (this.messages) throw new Error("the webhook queue is consumed already");
    const config = {
      durable_name: this.names.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: this.options.ackWaitMs * MS,
      // Attempts are counted in the delivery log, not by redeliveries (a crash is no attempt).
      max_deliver: -1,
    };
    try {
      await this.jsm.consumers.add(this.names.stream, config);
    } catch {
      await this.jsm.consumers.update(this.names.stream, this.names.consumer, { ack_wait: config.ack_wait });
    }
    const consumer = await this.js.consumers.get(this.names.stream, this.names.consumer);
    // No more buffered than can be worked on: a buffered message's ack wait is running.
    const messages = await consumer.consume({ max_messages: concurrency });
    this.messages = messages;
    let free: (() => void) | undefined;
    this.reading = (async () => {
      for await (const message of messages) {
        while (this.inFlight.size >= concurrency) {
          await new Promise<void>((resolve) => {
            free = resolve;
          });
        }
        const work = this.handle(message, handler).finally(() => {
          this.inFlight.delete(work);
          free?.();
        });
        this.inFlight.add(work);
      }
    })().catch(() => undefined);
  }

  /** Messages waiting or handed out and not yet acknowledged. */
  async pending(): Promise<number> {
    const info = await this.jsm.consumers.info(this.names.stream, this.names.consumer);
    return info.num_pending + info.num_ack_pending;
  }

  /** Stops taking messages and waits for the ones in hand (each acknowledged or handed back). */
  async stop(): Promise<void> {
    const messages = this.messages;
    this.messages = undefined;
    if (messages) await messages.close().catch(() => undefined);
    await this.reading;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Stops consuming and closes the connection. */
  async close(): Promise<void> {
    await this.stop();
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  private async handle(message: JsMsg, handler: WebhookMessageHandler): Promise<void> {
    const deliveryId = message.string();
    // Progress signals keep the message ours while a slow attempt runs.
    const progress = setInterval(() => message.working(), Math.max(100, Math.floor(this.options.ackWaitMs / 3)));
    try {
      const verdict = await handler(deliveryId, message.redelivered);
      if (verdict.kind === "later") message.nak(Math.max(1, Math.round(verdict.delayMs)));
      else {
        if (verdict.kind === "dead") {
          const letter: WebhookDeadLetter = { deliveryId, reason: verdict.reason, deadAt: new Date().toISOString() };
          await this.js.publish(this.names.deadSubject, JSON.stringify(letter), { msgID: deliveryId });
        }
        message.ack();
      }
    } catch {
      message.nak(ERROR_RETRY_MS);
    } finally {
      clearInterval(progress);
    }
  }
}

/** Creates the stream, or brings an existing one to `config` (both idempotent). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch {
    await jsm.streams.update(config.name, config);
  }
}
