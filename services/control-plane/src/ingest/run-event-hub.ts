import type { Logger } from "pino";
import type { EventBus, EventsUpdate } from "@macp/pipeline";

/** What one committed append published: a run's new canonical events, in seq order. */
export type RunUpdate = EventsUpdate;

/**
 * Fan-out of committed run updates over the bus (live streams subscribe here): whichever process
 * committed an append, every instance's subscribers of that run receive it. Publishing happens
 * only after the transaction committed, so a subscriber never sees an event that could vanish.
 * Delivery is at most once and in publish order per publisher; live feeds fill any gap from the
 * store.
 */
export class RunEventHub {
  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  publish(update: RunUpdate): void {
    if (update.events.length === 0) return;
    this.bus.publishEvents(update).catch((error: unknown) => {
      // The events are stored: subscribers read them from the store on their next gap or heartbeat.
      this.logger.warn({ run_id: update.runId, detail: error instanceof Error ? error.message : String(error) }, "could not publish run events for live fan-out");
    });
  }

  /** Calls `listener` for every update of `runId`; returns the unsubscribe function. */
  subscribe(runId: string, listener: (update: RunUpdate) => void): () => void {
    return this.bus.subscribeEvents(runId, listener);
  }
}
