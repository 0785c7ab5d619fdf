import { backoffDelay, sleep } from "@macp/pipeline";
import type { JetStreamWebhookQueue, WebhookVerdict } from "@macp/pipeline";
import type { WebhookDeliveryQueue, WebhookQueueDependencies } from "./delivery-queue.js";

/** Most overdue deliveries republished per sweep. */
const SWEEP_LIMIT = 500;

/**
 * The webhook queue on JetStream (NATS mode): delivery ids committed by any process (this one or
 * a projection worker) arrive on the queue's durable consumer, shared by all instances; each
 * message is claimed in the outbox, attempted once, and then acknowledged (delivered, or dead
 * with a dead letter) or handed back with the backoff delay. The outbox rows stay the delivery
 * log and the source of truth: a pending row whose message was lost (a crash between commit and
 * publish) is published again once it is `republishAfterMs` overdue.
 */
export class JetStreamDeliveryQueue implements WebhookDeliveryQueue {
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private started = false;
  private abort = new AbortController();
  private consuming: Promise<void> | undefined;

  constructor(
    private readonly queue: JetStreamWebhookQueue,
    private readonly deps: WebhookQueueDependencies,
  ) {}

  enqueued(deliveryIds: readonly string[], occasion?: string): void {
    if (deliveryIds.length === 0) return;
    this.queue.publish(deliveryIds, occasion).catch((error: unknown) => {
      // The rows are committed: the sweep publishes them again once they are overdue.
      this.deps.logger.warn({ err: error, deliveryIds }, "webhook deliveries not published to the queue");
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    this.consuming = this.consume(this.abort.signal);
    this.sweeper = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => {
        this.sweeping = undefined;
      });
    }, this.deps.config.pollIntervalMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.abort.abort();
    await this.consuming;
    await this.sweeping;
    await this.queue.stop();
  }

  /** Starts consuming; a failure (the consumer could not be declared) is retried with backoff until stopped. */
  private async consume(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt += 1) {
      try {
        await this.queue.consume((id) => this.handle(id), this.deps.config.concurrency);
        return;
      } catch (error) {
        this.deps.logger.error({ err: error }, "webhook queue consumer not started; retrying");
        await sleep(backoffDelay(attempt, 200, 10_000), signal);
      }
    }
  }

  private async handle(id: string): Promise<WebhookVerdict> {
    const { dispatcher } = this.deps;
    const claim = await dispatcher.claim(id);
    if (claim.kind === "gone") return { kind: "done" };
    if (claim.kind === "later") return { kind: "later", delayMs: claim.at - dispatcher.clock.now() };
    const result = await dispatcher.attempt(claim.delivery);
    switch (result.outcome) {
      case "delivered":
        return { kind: "done" };
      case "retry":
        return { kind: "later", delayMs: (result.retryAt ?? 0) - dispatcher.clock.now() };
      case "dead":
        return { kind: "dead", reason: result.error ?? "failed" };
    }
  }

  private async sweep(): Promise<void> {
    const { dispatcher, config, logger } = this.deps;
    try {
      const overdue = await dispatcher.overdue(new Date(dispatcher.clock.now() - config.republishAfterMs), SWEEP_LIMIT);
      // The occasion is the missed due time: every instance sweeping the same row publishes one message.
      await Promise.all(overdue.map((row) => this.queue.publish([row.id], `due-${row.nextAttemptAt.getTime()}`)));
      if (overdue.length > 0) logger.warn({ count: overdue.length }, "overdue webhook deliveries published to the queue again");
    } catch (error) {
      logger.warn({ err: error }, "webhook sweep failed");
    }
  }
}
