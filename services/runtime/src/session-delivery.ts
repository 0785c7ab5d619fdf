import { FeedLagError } from "@macp/core";
import type { AcceptedEnvelope, Kernel } from "@macp/core";

/** Where a delivery writes: one subscriber's stream. */
export interface DeliveryTarget {
  /** Writes one envelope; false once the client's buffer is full (further writes wait for `onDrain`). */
  write(event: AcceptedEnvelope): boolean;
  /** Calls `resume` once, when the client has read its buffer down; returns a canceller. */
  onDrain(resume: () => void): () => void;
  /** Called once if delivery stops on its own: the subscriber fell behind, or history could not be read. */
  fail(error: unknown): void;
}

/**
 * Delivers a session's accepted envelopes after a sequence to one stream: stored history first,
 * then live ones, in order, without gap or duplicate at the seam (it subscribes before reading
 * history and skips sequences already written; sequences are unique and dense). Live envelopes
 * are written synchronously as the kernel publishes them. While the client's buffer is full they
 * wait in a queue, which is written out in one pass when the client drains: no promise or timer
 * per message. More than `maxBuffered` live envelopes waiting fails the delivery as lagging.
 */
export class SessionDelivery {
  private queue: AcceptedEnvelope[] = [];
  private head = 0;
  private history: readonly AcceptedEnvelope[] = [];
  private historyAt = 0;
  private replaying = true;
  private paused = false;
  private closed = false;
  private last: number;
  private cancelDrain: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    kernel: Kernel,
    sessionId: string,
    afterSeq: number,
    private readonly maxBuffered: number,
    private readonly target: DeliveryTarget,
  ) {
    this.last = afterSeq;
    this.unsubscribe = kernel.subscribeSession(sessionId, (event) => this.offer(event));
    kernel.history(sessionId, afterSeq).then(
      (history) => {
        if (this.closed) return;
        this.history = history;
        this.flush();
      },
      (error: unknown) => this.stop(error),
    );
  }

  /** Stops delivering; nothing more is written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    // A replaced delivery must not keep a listener on a stream that may never drain.
    this.cancelDrain?.();
    this.queue = [];
    this.history = [];
  }

  private stop(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.target.fail(error);
  }

  private offer(event: AcceptedEnvelope): void {
    if (this.closed) return;
    if (this.replaying || this.paused) {
      const waiting = this.queue.length - this.head;
      if (waiting >= this.maxBuffered) {
        this.stop(new FeedLagError(waiting + 1));
        return;
      }
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        // A client that stays a little behind never empties the queue: drop the written part.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.queue.push(event);
      return;
    }
    this.deliver(event);
  }

  /** Writes one envelope unless already written; false when the client's buffer is full. */
  private deliver(event: AcceptedEnvelope): boolean {
    if (event.seq <= this.last) return true;
    this.last = event.seq;
    if (this.target.write(event)) return true;
    if (!this.closed) {
      this.paused = true;
      this.cancelDrain = this.target.onDrain(() => this.flush());
    }
    return false;
  }

  /** Writes out history, then queued live envelopes, until done or the client's buffer fills. */
  private flush(): void {
    this.paused = false;
    this.cancelDrain = undefined;
    while (!this.closed && this.historyAt < this.history.length) {
      if (!this.deliver(this.history[this.historyAt++] as AcceptedEnvelope)) return;
    }
    this.history = [];
    while (!this.closed && this.head < this.queue.length) {
      if (!this.deliver(this.queue[this.head++] as AcceptedEnvelope)) return;
    }
    this.queue = [];
    this.head = 0;
    this.replaying = false;
  }
}
