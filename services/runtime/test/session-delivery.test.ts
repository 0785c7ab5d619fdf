import { FeedLagError, InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import type { AcceptedEnvelope } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { PROTOCOL_VERSION, SessionStartPayload, type Envelope } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { SessionDelivery, type DeliveryTarget } from "../src/session-delivery.js";

const MODE = "ext.multi_round.v1";
const SESSION = "00000000-0000-4000-8000-00000000d001";
let counter = 0;

function envelope(messageType: string, payload: Uint8Array): Envelope {
  counter += 1;
  return { macpVersion: PROTOCOL_VERSION, mode: MODE, messageType, messageId: `m-${counter}`, sessionId: SESSION, sender: "alice", timestampUnixMs: 0n, payload };
}

async function kernelWithSession(): Promise<Kernel> {
  const kernel = new Kernel({ store: new InMemorySessionStore(), clock: new ManualClock(1_800_000_000_000), modes: new ModeRegistry(), policies: new PolicyRegistry() });
  const start = SessionStartPayload.encode(
    SessionStartPayload.fromPartial({ intent: "t", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "c", ttlMs: 60_000 }),
  ).finish();
  await kernel.send(envelope("SessionStart", start), { sender: "alice" });
  return kernel;
}

async function contribute(kernel: Kernel, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const outcome = await kernel.send(envelope("Contribute", new TextEncoder().encode(JSON.stringify({ value: `v${counter}` }))), { sender: "alice" });
    expect(outcome.ok).toBe(true);
  }
}

/** A subscriber whose buffer holds `room` envelopes until the test drains it. */
class Subscriber implements DeliveryTarget {
  readonly written: number[] = [];
  failure: unknown;
  private resume: (() => void) | undefined;
  constructor(private room: number) {}
  write(event: AcceptedEnvelope): boolean {
    this.written.push(event.seq);
    this.room -= 1;
    return this.room > 0;
  }
  onDrain(resume: () => void): () => void {
    this.resume = resume;
    return () => (this.resume = undefined);
  }
  fail(error: unknown): void {
    this.failure = error;
  }
  drain(room: number): void {
    this.room = room;
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("SessionDelivery", () => {
  it("writes history after the requested sequence, then live envelopes, in order without gap or duplicate", async () => {
    const kernel = await kernelWithSession();
    await contribute(kernel, 3);
    const subscriber = new Subscriber(Number.POSITIVE_INFINITY);
    const delivery = new SessionDelivery(kernel, SESSION, 2, 10, subscriber);
    // Accepted while history is still being read: must come after it, once.
    await contribute(kernel, 2);
    await settle();
    await contribute(kernel, 1);
    expect(subscriber.written).toEqual([3, 4, 5, 6, 7]);
    delivery.close();
    await contribute(kernel, 1);
    expect(subscriber.written).toEqual([3, 4, 5, 6, 7]);
    expect(kernel.sessionSubscriberCount).toBe(0);
  });

  it("holds live envelopes while the subscriber's buffer is full and writes them all once it drains", async () => {
    const kernel = await kernelWithSession();
    const subscriber = new Subscriber(2);
    new SessionDelivery(kernel, SESSION, 0, 10, subscriber);
    await settle();
    await contribute(kernel, 6);
    expect(subscriber.written).toEqual([1, 2]);
    subscriber.drain(3);
    expect(subscriber.written).toEqual([1, 2, 3, 4, 5]);
    subscriber.drain(100);
    expect(subscriber.written).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await contribute(kernel, 1);
    expect(subscriber.written).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(subscriber.failure).toBeUndefined();
  });

  it("gives up on a subscriber that falls more than the limit behind, and writes nothing more", async () => {
    const kernel = await kernelWithSession();
    const subscriber = new Subscriber(1);
    new SessionDelivery(kernel, SESSION, 0, 3, subscriber);
    await settle();
    await contribute(kernel, 4);
    expect(subscriber.failure).toBeInstanceOf(FeedLagError);
    expect(kernel.sessionSubscriberCount).toBe(0);
    subscriber.drain(100);
    expect(subscriber.written).toEqual([1]);
  });
});
