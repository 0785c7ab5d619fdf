import { natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunReadCache } from "../src/runs/run-read-cache.js";
import type { ApiRun } from "../src/runs/run-record.js";
import { dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { endRun, seedRun } from "./support/seed-run.js";
import { waitFor } from "./support/wait.js";

function apiRun(id: string, status: ApiRun["status"]): ApiRun {
  return { id, status } as ApiRun;
}

/** A subscriber standing in for the bus: tests deliver updates by hand. */
function handBus() {
  const listeners = new Map<string, () => void>();
  return {
    subscribe: (runId: string, listener: () => void) => {
      listeners.set(runId, listener);
      return () => listeners.delete(runId);
    },
    deliver: (runId: string) => listeners.get(runId)?.(),
    subscribed: (runId: string) => listeners.has(runId),
  };
}

describe("the GET /runs/:id cache of one instance", () => {
  it("serves a run it read until the run's update arrives, then reads it again", async () => {
    const bus = handBus();
    const cache = new RunReadCache(bus.subscribe, { ttlMs: 3_600_000, maxEntries: 10 });
    let status: ApiRun["status"] = "running";
    let reads = 0;
    const load = async () => {
      reads += 1;
      return apiRun("r1", status);
    };
    expect((await cache.get("r1", load))?.status).toBe("running");
    expect((await cache.get("r1", load))?.status).toBe("running");
    expect(reads).toBe(1);
    status = "completed";
    bus.deliver("r1");
    expect((await cache.get("r1", load))?.status).toBe("completed");
    expect(reads).toBe(2);
  });

  it("does not keep a read that an update overlapped", async () => {
    const bus = handBus();
    const cache = new RunReadCache(bus.subscribe, { ttlMs: 3_600_000, maxEntries: 10 });
    let release: (() => void) | undefined;
    const slow = () =>
      new Promise<ApiRun>((resolve) => {
        release = () => resolve(apiRun("r1", "running"));
      });
    const first = cache.get("r1", slow);
    // The run moved while the first read was in flight: that read may have seen the old row.
    bus.deliver("r1");
    release?.();
    expect((await first)?.status).toBe("running");
    expect((await cache.get("r1", async () => apiRun("r1", "cancelled")))?.status).toBe("cancelled");
  });

  it("never caches an unknown run and lets go of its subscription", async () => {
    const bus = handBus();
    const cache = new RunReadCache(bus.subscribe, { ttlMs: 3_600_000, maxEntries: 10 });
    expect(await cache.get("missing", async () => undefined)).toBeUndefined();
    expect(bus.subscribed("missing")).toBe(false);
    expect((await cache.get("missing", async () => apiRun("missing", "queued")))?.status).toBe("queued");
  });

  it("keeps at most its size, dropping the oldest run with its subscription", async () => {
    const bus = handBus();
    const cache = new RunReadCache(bus.subscribe, { ttlMs: 3_600_000, maxEntries: 2 });
    for (const id of ["a", "b", "c"]) await cache.get(id, async () => apiRun(id, "running"));
    expect([bus.subscribed("a"), bus.subscribed("b"), bus.subscribed("c")]).toEqual([false, true, true]);
  });
});

/**
 * Two instances on one Postgres schema and one JetStream bus, each caching GET /runs/:id for an
 * hour: what one instance commits reaches the other's cache through the bus, and its own at once.
 */
describe("GET /runs/:id across two instances with their caches", () => {
  const schema = freshSchema();
  const prefix = uniqueName("cpcache");
  let a: TestControlPlane;
  let b: TestControlPlane;

  beforeAll(async () => {
    const env = { DATABASE_SCHEMA: schema, NATS_URL: natsUrl(), BUS_PREFIX: prefix, BUS_PARTITIONS: "2", RUN_CACHE_TTL_MS: "3600000", RUN_RECOVERY_ENABLED: "false" };
    a = await startTestControlPlane("postgres", env);
    b = await startTestControlPlane("postgres", env);
  }, 180_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dropSchema(schema);
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it("never serves a status another instance ended once its update arrived, and its own ends at once", async () => {
    const runId = await seedRun(a.handle.context);
    expect((await a.request("GET", `/runs/${runId}`)).body.status).toBe("running");
    expect((await b.request("GET", `/runs/${runId}`)).body.status).toBe("running");
    await endRun(a.handle.context, runId, "cancelled");
    // A committed it: its own cache was dropped before the update left.
    expect((await a.request("GET", `/runs/${runId}`)).body.status).toBe("cancelled");
    await waitFor("B to see the cancellation", async () => ((await b.request("GET", `/runs/${runId}`)).body.status === "cancelled" ? true : undefined), 30_000);
    // Once seen, never the old status again.
    for (let index = 0; index < 5; index++) expect((await b.request("GET", `/runs/${runId}`)).body.status).toBe("cancelled");
  });

  it("shows an archive at once on the instance that made it", async () => {
    const runId = await seedRun(a.handle.context);
    expect((await a.request("GET", `/runs/${runId}`)).body.archivedAt).toBeNull();
    expect((await a.request("POST", `/runs/${runId}/archive`)).status).toBe(200);
    expect((await a.request("GET", `/runs/${runId}`)).body.archivedAt).not.toBeNull();
  });
});
