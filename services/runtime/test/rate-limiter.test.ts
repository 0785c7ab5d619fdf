import { describe, expect, it } from "vitest";
import { RateLimiter, type RateLimits } from "../src/rate-limiter.js";

const MINUTE = 60_000;

function limiter(limits: Partial<RateLimits> = {}): { limiter: RateLimiter; clock: { now(): number; advance(ms: number): void } } {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  return { limiter: new RateLimiter({ sessionStartsPerMinute: 2, messagesPerMinute: 3, ...limits, clock }), clock };
}

function attempts(rate: RateLimiter, sender: string, bucket: "sessionStart" | "message", count: number): boolean[] {
  return Array.from({ length: count }, () => rate.tryAcquire(sender, bucket));
}

describe("RateLimiter", () => {
  it("admits up to the limit within one window and refuses the rest", () => {
    const { limiter: rate } = limiter();
    expect(attempts(rate, "alice", "message", 5)).toEqual([true, true, true, false, false]);
    expect(attempts(rate, "alice", "sessionStart", 3)).toEqual([true, true, false]);
  });

  it("keeps the two buckets independent", () => {
    const { limiter: rate } = limiter();
    attempts(rate, "alice", "sessionStart", 2);
    expect(rate.tryAcquire("alice", "sessionStart")).toBe(false);
    expect(rate.tryAcquire("alice", "message")).toBe(true);
  });

  it("keeps senders independent", () => {
    const { limiter: rate } = limiter();
    attempts(rate, "alice", "message", 3);
    expect(rate.tryAcquire("alice", "message")).toBe(false);
    expect(rate.tryAcquire("bob", "message")).toBe(true);
  });

  it("still counts an attempt exactly 60 s old and frees its slot just after", () => {
    const { limiter: rate, clock } = limiter();
    attempts(rate, "alice", "message", 3);
    clock.advance(MINUTE);
    expect(rate.tryAcquire("alice", "message")).toBe(false);
    clock.advance(1);
    expect(rate.tryAcquire("alice", "message")).toBe(true);
  });

  it("slides: slots free up one by one as their attempts age out", () => {
    const { limiter: rate, clock } = limiter();
    const admitted: boolean[] = [];
    for (let i = 0; i < 3; i += 1) {
      admitted.push(rate.tryAcquire("alice", "message"));
      clock.advance(20_000);
    }
    // t=60 000: the first attempt (t=0) is exactly 60 s old and still counts.
    admitted.push(rate.tryAcquire("alice", "message"));
    clock.advance(1);
    admitted.push(rate.tryAcquire("alice", "message"), rate.tryAcquire("alice", "message"));
    expect(admitted).toEqual([true, true, true, false, true, false]);
  });

  it("does not record refused attempts", () => {
    const { limiter: rate, clock } = limiter();
    attempts(rate, "alice", "message", 3);
    clock.advance(30_000);
    // Hammering while limited must not extend the penalty.
    expect(attempts(rate, "alice", "message", 10).every((ok) => !ok)).toBe(true);
    clock.advance(30_001);
    expect(attempts(rate, "alice", "message", 4)).toEqual([true, true, true, false]);
  });

  it("maps SessionStart to the session-start bucket and everything else to the message bucket", () => {
    const { limiter: rate } = limiter({ sessionStartsPerMinute: 1, messagesPerMinute: 1 });
    expect(rate.checkEnvelope("alice", "SessionStart")).toBeUndefined();
    expect(rate.checkEnvelope("alice", "SessionStart")?.code).toBe("RATE_LIMITED");
    expect(rate.checkEnvelope("alice", "Signal")).toBeUndefined();
    expect(rate.checkEnvelope("alice", "Progress")?.code).toBe("RATE_LIMITED");
    expect(rate.checkEnvelope("alice", "Vote")?.message).toBe("RateLimited");
  });

  it("never limits a bucket configured as Infinity", () => {
    const { limiter: rate } = limiter({ messagesPerMinute: Infinity });
    expect(attempts(rate, "alice", "message", 10_000).every(Boolean)).toBe(true);
    expect(rate.trackedSenders).toBe(0);
  });

  it("forgets senders whose windows have emptied", () => {
    const { limiter: rate, clock } = limiter();
    for (let i = 0; i < 100; i += 1) rate.tryAcquire(`sender-${i}`, "message");
    expect(rate.trackedSenders).toBe(100);
    clock.advance(MINUTE + 1);
    rate.tryAcquire("alice", "message");
    expect(rate.trackedSenders).toBe(1);
  });

  it.each([0, -1, 1.5, NaN])("rejects a limit of %s", (limit) => {
    expect(() => new RateLimiter({ sessionStartsPerMinute: limit, messagesPerMinute: 1 })).toThrow(RangeError);
  });
});
