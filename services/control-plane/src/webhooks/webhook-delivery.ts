import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Database, TransitionOutbox } from "@macp/pipeline";
import { OutboxDeliveryQueue } from "./delivery-queue.js";
import type { WebhookDeliveryQueue, WebhookQueueDependencies } from "./delivery-queue.js";
import type { WebhookConfig } from "./webhook-config.js";
import { SYSTEM_CLOCK, WebhookDispatcher } from "./webhook-dispatcher.js";
import type { WebhookClock } from "./webhook-dispatcher.js";
import { enqueueWebhookDeliveries } from "./webhook-outbox.js";

/** Builds a delivery queue; the default is the Postgres outbox scanner. */
export type WebhookQueueFactory = (deps: WebhookQueueDependencies) => WebhookDeliveryQueue;

/** Webhook delivery of one control-plane instance. */
export interface WebhookDelivery {
  /** Set as `RunLifecycle.outbox`: transitions write their deliveries in their own transaction. */
  readonly outbox: TransitionOutbox;
  readonly queue: WebhookDeliveryQueue;
}

/** Wires outbox, dispatcher and queue. */
export function createWebhookDelivery(options: {
  db: Kysely<Database>;
  config: WebhookConfig;
  logger: Logger;
  registry: Registry;
  clock?: WebhookClock | undefined;
  queue?: WebhookQueueFactory | undefined;
}): WebhookDelivery {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const dispatcher = new WebhookDispatcher(options.db, options.config, options.logger, options.registry, clock);
  const deps: WebhookQueueDependencies = { dispatcher, config: options.config, logger: options.logger };
  const queue = options.queue ? options.queue(deps) : new OutboxDeliveryQueue(deps);
  return {
    queue,
    outbox: {
      record: (trx, run, events) => enqueueWebhookDeliveries(trx, run, events, new Date(clock.now())),
      committed: (ids) => queue.enqueued(ids),
    },
  };
}
