import { EventEmitter } from "node:events";
import type { CanonicalEvent, RunStateProjection } from "@macp/events";

/** What one committed append published. */
export interface RunUpdate {
  readonly runId: string;
  readonly events: readonly CanonicalEvent[];
  readonly state: RunStateProjection;
}

/**
 * In-process fan-out of committed run updates (live streams subscribe here). Publishing happens
 * only after the transaction committed, so a subscriber never sees an event that could vanish.
 */
export class RunEventHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(update: RunUpdate): void {
    if (update.events.length > 0) this.emitter.emit(update.runId, update);
  }

  /** Calls `listener` for every update of `runId`; returns the unsubscribe function. */
  subscribe(runId: string, listener: (update: RunUpdate) => void): () => void {
    this.emitter.on(runId, listener);
    return () => this.emitter.off(runId, listener);
  }
}
