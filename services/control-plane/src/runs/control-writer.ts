import type { ControlInput, EventBus } from "@macp/pipeline";
import { sleep } from "@macp/pipeline";
import { HttpError } from "../http/errors.js";

/** Longest wait between two checks of whether an input was applied (a replayed or refused input publishes nothing). */
const MAX_POLL_MS = 250;

/**
 * Writes what the control plane originates (run created, bind, kickoff, launch and API
 * transitions, artifacts) as control inputs on the run's raw partition, behind whatever ingest
 * published for the run before: the projector — in this process in embedded mode, the projection
 * worker on JetStream — is the only writer of canonical events, and stores these in publish order
 * with the run's runtime input. Inputs are idempotent (event ids derive from their raw keys), so
 * a step retried after a restart stores nothing twice.
 */
export class ControlWriter {
  constructor(
    private readonly bus: EventBus,
    private readonly applyTimeoutMs: number,
  ) {}

  /** Puts `input` on the bus (durably on JetStream); the projector applies it in the background. */
  async publish(runId: string, input: ControlInput): Promise<void> {
    // Position 0: applied in arrival order, after everything published for the run before it.
    await this.bus.publishRaw([{ runId, raw: input, position: 0 }]);
  }

  /**
   * Publishes `input` and waits until `applied` finds its effect in the store: checked after each
   * update of the run on the bus, and at least every {@link MAX_POLL_MS}. 503 when the projector
   * did not get to it in time (no projection worker running).
   */
  async apply<T>(runId: string, input: ControlInput, applied: () => Promise<T | undefined>): Promise<T> {
    let wake: (() => void) | undefined;
    const unsubscribe = this.bus.subscribeEvents(runId, () => wake?.());
    try {
      await this.publish(runId, input);
      const deadline = Date.now() + this.applyTimeoutMs;
      for (let delay = 5; ; delay = Math.min(MAX_POLL_MS, delay * 2)) {
        const result = await applied();
        if (result !== undefined) return result;
        if (Date.now() > deadline) throw new HttpError(503, "PROJECTOR_UNAVAILABLE", `the projector did not apply the change to run ${runId} within ${this.applyTimeoutMs} ms`);
        const signal = new AbortController();
        wake = () => signal.abort();
        await sleep(delay, signal.signal);
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }
}
