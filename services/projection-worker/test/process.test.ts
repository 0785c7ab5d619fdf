import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { databaseUrl, natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Exited {
  readonly code: number | null;
  readonly stderr: string;
}

/** Spawns the built worker; resolves with its health URL once it prints it. */
function spawnWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((result) => reject(new Error(`worker exited ${result.code}: ${result.stderr}`)));
  });
  // A worker refusing its configuration never prints a URL; tests that expect that read `exited`.
  url.catch(() => undefined);
  return { child, url, exited };
}

describe("the projection-worker process", () => {
  const prefix = uniqueName("pwbus");
  afterAll(async () => {
    const nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    for (const stream of [`${prefix}_RAW`, `${prefix}_EVENTS`, `KV_${prefix}_leases`, `${prefix}_WEBHOOKS`, `${prefix}_WEBHOOKS_DEAD`]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it("refuses invalid configuration with exit status 2 and names the variable", async () => {
    const missing = await spawnWorker({ NATS_URL: natsUrl() }).exited;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("DATABASE_URL is required");
    const bad = await spawnWorker({ DATABASE_URL: databaseUrl(), NATS_URL: natsUrl(), BUS_PARTITIONS: "0" }).exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("BUS_PARTITIONS");
  });

  it("serves health and Prometheus metrics, takes every partition, and exits 0 on SIGTERM", { timeout: 60_000 }, async () => {
    const worker = spawnWorker({ DATABASE_URL: databaseUrl(), DATABASE_SCHEMA: uniqueName("pw_test"), NATS_URL: natsUrl(), BUS_PREFIX: prefix, BUS_PARTITIONS: "2" });
    const url = await worker.url;
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, service: "macp-projection-worker" });
    // No control plane migrated this schema: the worker is alive but not ready.
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ok: false, database: "unhealthy", bus: "ok" });
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain("macp_projector_fold_duration_seconds");
      expect(metrics).toContain("macp_projector_redeliveries_total");
      expect(metrics).toContain("macp_projector_consumer_lag");
      if (/^macp_projector_partitions_held 2$/m.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  });
});
