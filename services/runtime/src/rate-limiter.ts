import type { Clock } from "@macp/core";
import { CoreMessageType, MacpError } from "@macp/protocol";

/** Length of the sliding window (protocol.md §5.5). */
const WINDOW_MS = 60_000;

/** The two independent per-sender buckets. */
export type RateBucket = "sessionStart" | "message";

/** Limits per 60 s window; `Infinity` disables a bucket (the in-process test harness setting). */
export interface RateLimits {
  readonly sessionStartsPerMinute: number;
  readonly messagesPerMinute: number;
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions extends RateLimits {
  /** Milliseconds; the runtime passes its injected clock. Default `performance.now`, immune to wall-clock steps. */
  readonly clock?: Clock;
}

/**
 * Per-sender sliding-window rate limits (protocol.md §5.5). On each attempt, timestamps older
 * than 60 s (strictly) are dropped; if the remaining count has reached the limit the attempt is
 * refused and **not** recorded, otherwise it is recorded. Memory is bounded: a window never holds
 * more than its limit, and senders whose windows have emptied are pruned about once per window.
 */
export class RateLimiter {
  readonly #limits: Readonly<Record<RateBucket, number>>;
  readonly #clock: Clock;
  readonly #windows = new Map<string, Record<RateBucket, SlidingWindow | undefined>>();
  #lastPruneAt: number;

  constructor(options: RateLimiterOptions) {
    for (const [name, limit] of Object.entries({
      sessionStartsPerMinute: options.sessionStartsPerMinute,
      messagesPerMinute: options.messagesPerMinute,
    })) {
      if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit > 0))) {
        throw new RangeError(`${name} must be a positive integer or Infinity, got ${limit}`);
      }
    }
    this.#limits = { sessionStart: options.sessionStartsPerMinute, message: options.messagesPerMinute };
    this.#clock = options.clock ?? performance;
    this.#lastPruneAt = this.#clock.now();
  }

  /** Takes a slot in `sender`'s bucket; false (nothing recorded) when the window is full. */
  tryAcquire(sender: string, bucket: RateBucket): boolean {
    const limit = this.#limits[bucket];
    if (limit === Infinity) return true;
    const now = this.#clock.now();
    this.#pruneIdleSenders(now);
    let windows = this.#windows.get(sender);
    if (windows === undefined) {
      windows = { sessionStart: undefined, message: undefined };
      this.#windows.set(sender, windows);
    }
    const window = (windows[bucket] ??= new SlidingWindow());
    window.dropOlderThan(now - WINDOW_MS);
    if (window.count >= limit) return false;
    window.record(now);
    return true;
  }

  /**
   * Send-pipeline step 6: `SessionStart` uses the session-start bucket, every other envelope
   * (Signals and Progress included) the message bucket. Returns the error to report, if any.
   */
  checkEnvelope(sender: string, messageType: string): MacpError | undefined {
    const bucket: RateBucket = messageType === CoreMessageType.SessionStart ? "sessionStart" : "message";
    return this.tryAcquire(sender, bucket) ? undefined : new MacpError("RateLimited");
  }

  /** Number of senders currently tracked (for metrics and tests). */
  get trackedSenders(): number {
    return this.#windows.size;
  }

  #pruneIdleSenders(now: number): void {
    if (now - this.#lastPruneAt < WINDOW_MS) return;
    this.#lastPruneAt = now;
    const cutoff = now - WINDOW_MS;
    for (const [sender, windows] of this.#windows) {
      windows.sessionStart?.dropOlderThan(cutoff);
      windows.message?.dropOlderThan(cutoff);
      if ((windows.sessionStart?.count ?? 0) === 0 && (windows.message?.count ?? 0) === 0) {
        this.#windows.delete(sender);
      }
    }
  }
}

/** Timestamps in arrival order; the limiter never lets one hold more than its limit. */
class SlidingWindow {
  #times: number[] = [];
  #head = 0;

  get count(): number {
    return this.#times.length - this.#head;
  }

  /** Drops timestamps strictly before `cutoff`, i.e. older than the window. */
  dropOlderThan(cutoff: number): void {
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? cutoff) < cutoff) this.#head += 1;
    // Compact lazily so dropping stays O(1) amortised.
    if (this.#head > 0 && this.#head * 2 >= this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }

  record(time: number): void {
    this.#times.push(time);
  }
}
