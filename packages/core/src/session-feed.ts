import { MacpError } from "@macp/protocol";

/** The consumer of a feed fell too far behind (ends a stream with RESOURCE_EXHAUSTED). */
export class FeedLagError extends MacpError {
  constructor(readonly behind: number) {
    super("RateLimited", `StreamSession receiver fell behind by ${behind} envelopes`);
  }
}
import type { AcceptedEnvelope, Kernel } from "./kernel.js";

/**
 * A session's accepted envelopes after a given sequence: stored history first, then live ones,
 * in order, with no gap and no duplicate at the seam. It subscribes before reading history and
 * drops live envelopes the history already covered (sequences are unique and dense).
 */
export class SessionFeed implements AsyncIterable<AcceptedEnvelope> {
  private closed = false;
  private wake: (() => void) | undefined;
  private signalClosed!: () => void;
  /** Settles when the feed is closed: lets a consumer stop waiting (e.g. for a slow reader). */
  readonly whenClosed: Promise<void> = new Promise<void>((resolve) => {
    this.signalClosed = resolve;
  });

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
    this.signalClosed();
    this.wake?.();
  }

  /** Yields the history after the requested sequence, then live envelopes, without gap or duplicate. */
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
        if (overflow > 0) throw new FeedLagError(overflow);
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
