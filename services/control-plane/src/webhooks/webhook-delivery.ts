import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { JetStreamWebhookQueue, webhookTransitionOutbox } from "@macp/pipeline";
import type { Database, TransitionOutbox } from "@macp/pipeline";
import type { BusConfig } from "../config/config.js";
import { OutboxDeliveryQueue } from "./delivery-queue.js";
import type { WebhookDeliveryQueue, WebhookQueueDependencies } from "./delivery-queue.js";
import { JetStreamDeliveryQueue } from "./jetstream-delivery-queue.js";
import type { WebhookConfig } from "./webhook-config.js";
import { SYSTEM_CLOCK, WebhookDispatcher } from "./webhook-dispatcher.js";
import type { WebhookClock } from "./webhook-dispatcher.js";

/** Builds a delivery queue; the default is the Postgres outbox scanner (JetStream with NATS). */
export type WebhookQueueFactory = (deps: WebhookQueueDependencies) => WebhookDeliveryQueue;

/** Webhook delivery of one control-plane instance. */
export interface WebhookDelivery {
  /** Set as `RunLifecycle.outbox`: transitions write their deliveries in their own transaction. */
  readonly outbox: TransitionOutbox;
  readonly queue: WebhookDeliveryQueue;
  readonly dispatcher: WebhookDispatcher;
  /** Stops the queue (attempts in flight finish) and closes its connection. */
  close(): Promise<void>;
}

/**
 * Wires outbox, dispatcher and queue: the JetStream queue when the bus is on NATS, else the
 * Postgres outbox scanner (or the queue `queue` builds).
 */
export async function createWebhookDelivery(options: {
  db: Kysely<Database>;
  config: WebhookConfig;
  bus: BusConfig;
  logger: Logger;
  registry: Registry;
  clock?: WebhookClock | undefined;
  queue?: WebhookQueueFactory | undefined;
}): Promise<WebhookDelivery> {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const dispatcher = new WebhookDispatcher(options.db, options.config, options.logger, options.registry, clock);
  const deps: WebhookQueueDependencies = { dispatcher, config: options.config, logger: options.logger };
  const { natsUrl } = options.bus;
  const jetStream =
    options.queue === undefined && natsUrl !== undefined
      ? await JetStreamWebhookQueue.connect({ url: natsUrl, prefix: options.bus.prefix, name: "macp-control-plane webhooks", dedupeWindowMs: options.bus.dedupeWindowMs, ackWaitMs: options.config.ackWaitMs })
      : undefined;
  const queue = options.queue ? options.queue(deps) : jetStream ? new JetStreamDeliveryQueue(jetStream, deps) : new OutboxDeliveryQueue(deps);
  return {
    queue,
    dispatcher,
    outbox: webhookTransitionOutbox({ now: () => clock.now(), committed: (ids) => queue.enqueued(ids) }),
    async close() {
      await queue.stop();
      await jetStream?.close();
    },
  };
}
