import type { Logger } from "pino";
import type { WebhookConfig } from "./webhook-config.js";
import type { WebhookDispatcher } from "./webhook-dispatcher.js";

/**
 * Schedules webhook delivery attempts. The outbox rows (written with the run change) are the
 * source of truth; a queue only decides when {@link WebhookDispatcher} claims and attempts them.
 * The embedded implementation scans Postgres ({@link OutboxDeliveryQueue}); with NATS the
 * JetStream one ({@link JetStreamDeliveryQueue}) replaces it through the same three calls.
 */
export interface WebhookDeliveryQueue {
  /**
   * Deliveries just committed to the outbox: attempt them soon. `occasion` marks a second
   * enqueueing of the same ids (a redelivery), which a deduplicating queue must not drop.
   */
  enqueued(deliveryIds: readonly string[], occasion?: string): void;
  /** Begins dispatching (after a restart: everything still pending). */
  start(): void;
  /** Stops scheduling and waits for attempts in flight; pending deliveries stay in the outbox. */
  stop(): Promise<void>;
}

/** What a queue implementation is built from (StartOptions.webhookQueue). */
export interface WebhookQueueDependencies {
  readonly dispatcher: WebhookDispatcher;
  readonly config: WebhookConfig;
  readonly logger: Logger;
}

/**
 * The embedded queue: every `WEBHOOK_POLL_INTERVAL_MS` (and at once when deliveries are
 * enqueued) it claims due rows with `FOR UPDATE SKIP LOCKED`, so replicas share the work, and
 * attempts at most `WEBHOOK_CONCURRENCY` at a time. Retries are rows whose `next_attempt_at`
 * lies ahead; a restart resumes them from the table.
 */
export class OutboxDeliveryQueue implements WebhookDeliveryQueue {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = true;

  constructor(private readonly deps: WebhookQueueDependencies) {}

  enqueued(deliveryIds: readonly string[]): void {
    if (deliveryIds.length > 0) this.wake();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.deps.config.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.scanning;
    await Promise.allSettled([...this.inFlight]);
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan().finally(() => {
      this.scanning = undefined;
      if (this.rescan) {
        this.rescan = false;
        this.wake();
      }
    });
  }

  private async scan(): Promise<void> {
    const { dispatcher, config, logger } = this.deps;
    const free = config.concurrency - this.inFlight.size;
    if (this.stopped || free <= 0) return;
    try {
      for (const delivery of await dispatcher.claimDue(free)) {
        const attempt = dispatcher.attempt(delivery).finally(() => {
          this.inFlight.delete(attempt);
          // A slot came free: more may be due.
          this.wake();
        });
        this.inFlight.add(attempt);
      }
    } catch (error) {
      logger.error({ err: error }, "webhook outbox scan failed");
    }
  }
}
