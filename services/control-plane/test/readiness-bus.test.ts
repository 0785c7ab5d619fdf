import { uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { ownNatsServer } from "./support/nats-server.js";
import type { OwnNatsServer } from "./support/nats-server.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";

describe("/readyz reports the event bus and the projector", () => {
  const prefix = uniqueName("cpready");
  const streams = { [`${prefix}_RAW`]: true, [`${prefix}_EVENTS`]: true, [`KV_${prefix}_leases`]: true };
  let runtime: RuntimeDaemon;
  let nats: OwnNatsServer;
  let onNats: TestControlPlane;
  let embedded: TestControlPlane;

  beforeAll(async () => {
    runtime = await spawnRuntime();
    nats = await ownNatsServer();
    await nats.start();
    onNats = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, NATS_URL: nats.url, BUS_PREFIX: prefix, BUS_PARTITIONS: "2" });
    embedded = await startTestControlPlane("pglite", { RUNTIME_ADDRESS: runtime.address, BUS_PARTITIONS: "3" });
  }, 180_000);
  afterAll(async () => {
    await onNats?.close();
    await embedded?.close();
    await nats?.dispose();
    await runtime?.stop();
  });

  it("in embedded mode: the in-memory bus, and this process projecting every partition", async () => {
    const ready = await waitFor("embedded instance ready", async () => {
      const response = await embedded.request("GET", "/readyz");
      return response.status === 200 ? response : undefined;
    });
    expect(ready.body).toMatchObject({
      ok: true,
      bus: { kind: "memory", ok: true, connection: "in-process", streams: {} },
      projector: { mode: "embedded", ok: true, partitions: 3, partitionsHeld: 3 },
    });
  });

  it("on JetStream: 503 while the NATS server is down, ready again once it is back; a missing stream is named", { timeout: 120_000 }, async () => {
    const up = await waitFor("ready on NATS", async () => {
      const response = await onNats.request("GET", "/readyz");
      return response.status === 200 ? response : undefined;
    });
    expect(up.body).toMatchObject({ ok: true, bus: { kind: "nats", ok: true, connection: "connected", streams }, projector: { mode: "workers", ok: true, partitions: 2, partitionsHeld: 0 } });

    await nats.stop();
    const down = await onNats.request("GET", "/readyz");
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false, database: "ok", runtime: { ok: true }, bus: { kind: "nats", ok: false, connection: "unreachable" } });

    await nats.start();
    const back = await waitFor("ready after NATS restarted", async () => {
      const response = await onNats.request("GET", "/readyz");
      return response.status === 200 ? response : undefined;
    }, 60_000);
    expect(back.body.bus).toEqual({ kind: "nats", ok: true, connection: "connected", streams });

    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.delete(`${prefix}_EVENTS`);
    await nc.close();
    const missing = await onNats.request("GET", "/readyz");
    expect(missing.status).toBe(503);
    expect(missing.body.bus).toEqual({ kind: "nats", ok: false, connection: "connected", streams: { ...streams, [`${prefix}_EVENTS`]: false } });
  });
});
