import { MacpError } from "@macp/protocol";
import type { AcceptedEnvelope, Kernel } from "./kernel.js";

/**
 * A session's accepted envelopes after a given sequence: stored history first, then live ones,
 * in order, with no gap and no duplicate at the seam. It subscribes before reading history and
 * drops live envelopes the history already covered (sequences are unique and dense).
 */
export class SessionFeed implements AsyncIterable<AcceptedEnvelope> {
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly kernel: Kernel,
    private readonly sessionId: string,
    private readonly afterSeq: number,
    /** Live envelopes buffered for a slow consumer before the feed fails as lagging. */
    private readonly maxBuffered = 4096,
  ) {}

  /** Ends the feed; a pending iteration finishes. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<AcceptedEnvelope> {
    const pending: AcceptedEnvelope[] = [];
    let overflow = 0;
    const unsubscribe = this.kernel.subscribeSession(this.sessionId, (event) => {
      if (pending.length >= this.maxBuffered) overflow++;
      else pending.push(event);
      this.wake?.();
    });
    try {
      let last = this.afterSeq;
      for (const event of await this.kernel.history(this.sessionId, this.afterSeq)) {
        if (this.closed) return;
        if (event.seq > last) {
          last = event.seq;
          yield event;
        }
      }
      while (!this.closed) {
        if (overflow > 0) {
          throw new MacpError("RateLimited", `StreamSession receiver fell behind by ${overflow} envelopes`);
        }
        const event = pending.shift();
        if (event) {
          if (event.seq > last) {
            last = event.seq;
            yield event;
          }
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }
}
