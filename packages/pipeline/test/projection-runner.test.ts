import { randomUUID } from "node:crypto";
import { MemoryBus, NatsBus, ProjectionRunner, fairShare } from "@macp/pipeline";
import { natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";

const PARTITIONS = 4;
const silent = { warn: () => undefined };

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("fair share of the partitions among live runners", () => {
  it("splits evenly, the first runners in owner order taking the remainder", () => {
    expect(fairShare(8, [], "a", 8)).toBe(8);
    expect(fairShare(8, ["a:8", "b:8"], "a", 8)).toBe(4);
    expect(fairShare(5, ["a:8", "b:8"], "a", 8)).toBe(3);
    expect(fairShare(5, ["a:8", "b:8"], "b", 8)).toBe(2);
    expect(fairShare(8, ["a:8", "b:8", "c:8"], "c", 8)).toBe(2);
  });

  it("gives a runner's unused allowance to the others, so no partition is left without a projector", () => {
    // b may project only one partition: a takes the other seven.
    expect(fairShare(8, ["a:8", "b:1"], "a", 8)).toBe(7);
    expect(fairShare(8, ["a:8", "b:1"], "b", 1)).toBe(1);
  });

  it("counts itself even before its own heartbeat is visible, and ignores malformed heartbeats", () => {
    expect(fairShare(4, ["b:4", "garbage", "c:0"], "a", 4)).toBe(2);
  });
});

describe("partition rebalancing between projection runners on JetStream", () => {
  const prefix = uniqueName("prun");
  const buses: NatsBus[] = [];
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  async function runner(): Promise<ProjectionRunner> {
    const bus = await NatsBus.connect({ url: natsUrl(), prefix, partitions: PARTITIONS, dedupeWindowMs: 10_000, name: "rebalance test" });
    buses.push(bus);
    const started = new ProjectionRunner(bus, () => async (batch) => batch.forEach((delivery) => delivery.ack()), { owner: randomUUID(), leaseTtlMs: 900, maxPartitions: PARTITIONS }, silent);
    await started.start();
    return started;
  }

  it("splits the partitions when a second runner joins and gives them all to the one left when the other stops", { timeout: 120_000 }, async () => {
    const first = await runner();
    await eventually("the first runner holding every partition", () => (first.partitions.length === PARTITIONS ? true : undefined));

    const second = await runner();
    await eventually("the partitions split two and two", () => (first.partitions.length === 2 && second.partitions.length === 2 ? true : undefined));
    expect([...first.partitions, ...second.partitions].sort()).toEqual([0, 1, 2, 3]);

    await first.stop();
    await eventually("the second runner holding every partition", () => (second.partitions.length === PARTITIONS ? true : undefined));
    await second.stop();
  });
});

describe("a projection runner alone on the in-memory bus", () => {
  it("projects every partition", { timeout: 30_000 }, async () => {
    const bus = new MemoryBus(PARTITIONS, 1_000);
    const alone = new ProjectionRunner(bus, () => async () => undefined, { owner: "embedded", leaseTtlMs: 900, maxPartitions: PARTITIONS }, silent);
    await alone.start();
    await eventually("every partition held", () => (alone.partitions.length === PARTITIONS ? true : undefined));
    await alone.stop();
    await bus.close();
  });
});
