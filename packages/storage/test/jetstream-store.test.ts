import { afterAll, describe, expect, it } from "vitest";
import { StaleAppendError } from "@macp/core";
import { JetStreamStore, createStore, storeConfigFromEnv } from "../src/index.js";
import { jetStreamAllocator, NATS_URL } from "./jetstream-fixture.js";
import { logEntry } from "./log-entries.js";
import { describeSessionStoreContract } from "./session-store-contract.js";

const streams = jetStreamAllocator("jsstore");
afterAll(() => streams.deleteAll());

const open = async (prefix: string): Promise<JetStreamStore> => JetStreamStore.open({ connection: await streams.connection(), prefix });

describeSessionStoreContract("JetStreamStore", {
  durable: true,
  async createBackend() {
    const prefix = streams.next();
    return { open: () => open(prefix), dispose: async () => undefined };
  },
});

describe("JetStreamStore shared by several writers", () => {
  it("refuses an append from a writer whose view of the session is stale, storing nothing, and accepts it after a reload", async () => {
    const prefix = streams.next();
    const [a, b] = await Promise.all([open(prefix), open(prefix)]);
    await a.append("s", [logEntry("s", 1)]);
    expect(await b.loadLog("s")).toEqual([logEntry("s", 1)]);
    await a.append("s", [logEntry("s", 2, { sender: "a" })]);
    // b last saw one entry: its append at that position must lose.
    const error = await b.append("s", [logEntry("s", 2, { sender: "b" })]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StaleAppendError);
    expect(await b.isCurrent("s")).toBe(false);
    expect((await b.loadLog("s")).map((entry) => entry.sender)).toEqual(["agent://alice", "a"]);
    expect(await b.isCurrent("s")).toBe(true);
    await b.append("s", [logEntry("s", 3, { sender: "b" })]);
    expect(await a.isCurrent("s")).toBe(false);
    expect((await a.loadLog("s")).map((entry) => `${entry.seq}:${entry.sender}`)).toEqual(["1:agent://alice", "2:a", "3:b"]);
    await Promise.all([a.close(), b.close()]);
  });

  it("lets exactly one of two writers racing for each position win", async () => {
    const prefix = streams.next();
    const writers = await Promise.all([open(prefix), open(prefix), open(prefix)]);
    const wins = [0, 0, 0];
    // Each writer appends its next entry at the end it knows, reloading whenever it lost.
    await Promise.all(
      writers.map(async (writer, w) => {
        let log = await writer.loadLog("race");
        while (log.length < 30) {
          try {
            await writer.append("race", [logEntry("race", log.length + 1, { sender: `w${w}` })]);
            wins[w] = (wins[w] ?? 0) + 1;
          } catch (error) {
            if (!(error instanceof StaleAppendError)) throw error;
          }
          log = await writer.loadLog("race");
        }
      }),
    );
    const log = await writers[0]!.loadLog("race");
    expect(log.map((entry) => entry.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
    expect(wins.reduce((sum, n) => sum + n, 0)).toBe(log.length);
    await Promise.all(writers.map((writer) => writer.close()));
  });

  it("tells every writer when a registry document is saved by another", async () => {
    const prefix = streams.next();
    const [a, b] = await Promise.all([open(prefix), open(prefix)]);
    const seen: string[] = [];
    const changed = new Promise<void>((resolve) => {
      const stop = b.watchRegistries((kind) => {
        seen.push(kind);
        stop();
        resolve();
      });
    });
    // The watch is set up asynchronously; keep saving until it reports.
    const saving = setInterval(() => void a.saveRegistry("modes", '["x"]'), 50);
    await changed;
    clearInterval(saving);
    expect(seen).toEqual(["modes"]);
    expect(await b.loadRegistry("modes")).toBe('["x"]');
    await Promise.all([a.close(), b.close()]);
  });
});

describe("createStore and storeConfigFromEnv for jetstream", () => {
  it("opens a JetStream store from the environment's settings", async () => {
    const prefix = streams.next();
    const config = storeConfigFromEnv({ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: NATS_URL, MACP_JETSTREAM_PREFIX: prefix });
    expect(config).toEqual({ backend: "jetstream", natsUrl: NATS_URL, jetstreamReplicas: 1, jetstreamPrefix: prefix });
    const store = await createStore(config);
    expect(store).toBeInstanceOf(JetStreamStore);
    await store.append("c", [logEntry("c", 1)]);
    await store.close();
    const again = await createStore(config);
    expect(await again.loadLog("c")).toEqual([logEntry("c", 1)]);
    await again.close();
  });

  it("refuses a missing URL, bad replica counts and bad prefixes", () => {
    expect(() => storeConfigFromEnv({ MACP_STORAGE_BACKEND: "jetstream" })).toThrow(/MACP_NATS_URL/);
    expect(() => storeConfigFromEnv({ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: NATS_URL, MACP_JETSTREAM_REPLICAS: "2" })).toThrow(
      /MACP_JETSTREAM_REPLICAS must be 1, 3 or 5/,
    );
    expect(() => storeConfigFromEnv({ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: NATS_URL, MACP_JETSTREAM_PREFIX: "a.b" })).toThrow(
      /MACP_JETSTREAM_PREFIX/,
    );
  });
});
