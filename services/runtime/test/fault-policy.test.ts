import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { MacpClient } from "@macp/client";
import { DaemonProcess, acceptedHistory } from "./support/daemon-process.js";
import { proposal, sessionStart } from "./support/runtime-harness.js";

/**
 * The process-wide fault policy of the daemon (spawned from its build): a storage callback that
 * throws, an unhandled rejection or an uncaught exception never leaves a half-working process.
 * The daemon logs the fault with its context, reports NOT_SERVING, lets in-flight calls finish
 * with a typed error and exits with status 1; a restart then has every acknowledged message.
 */

const SERVICE = "macp.v1.MACPRuntimeService";
const COORDINATOR = "agent://coordinator";
const PARTICIPANTS = [COORDINATOR, "agent://worker"];
const PRELOAD_DIR = join(import.meta.dirname, "support/preload");
const preload = (name: string): string[] => ["--import", pathToFileURL(join(PRELOAD_DIR, name)).href];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "macp-fault-"));
  cleanups.push(() => rm(path, { recursive: true, force: true }));
  return path;
}

async function start(env: Record<string, string>, nodeArgs: string[] = []): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start({ env: { MACP_SHUTDOWN_GRACE_MS: "2000", ...env }, nodeArgs });
  cleanups.push(() => daemon.kill());
  return daemon;
}

/** Opens a session and sends `count` proposals; returns every acknowledged message id in order. */
async function acceptSome(client: MacpClient, sessionId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const envelopes = [sessionStart({ sessionId, participants: PARTICIPANTS, messageId: randomUUID() })];
  for (let i = 0; i < count; i++) envelopes.push(proposal(sessionId, randomUUID(), `p${i}`));
  for (const envelope of envelopes) {
    const { ack } = await client.send({ envelope });
    if (!ack?.ok) throw new Error(`${envelope.messageType} refused: ${ack?.error?.code} ${ack?.error?.message}`);
    ids.push(envelope.messageId);
  }
  return ids;
}

/** Proposals to `sessionId` until the daemon refuses one: the ids it acknowledged, and the refused one. */
async function proposeUntilRefused(client: MacpClient, sessionId: string): Promise<{ acked: string[]; refused: string }> {
  const acked: string[] = [];
  for (let i = 0; ; i++) {
    const envelope = proposal(sessionId, randomUUID(), `load-${i}`);
    const ack = await client.send({ envelope }).then(
      (response) => response.ack,
      () => undefined,
    );
    if (!ack?.ok) return { acked, refused: envelope.messageId };
    acked.push(envelope.messageId);
  }
}

describe("daemon fault policy", () => {
  it(
    "fails the Send whose durability callback throws with a typed error, stops cleanly, and a restart loses nothing acknowledged",
    { timeout: 120_000 },
    async () => {
      const dir = await dataDir();
      const doomed = randomUUID();
      const daemon = await start({ MACP_DATA_DIR: dir, BREAK_INDEX_SESSION: doomed }, preload("break-index.mjs"));
      const health = daemon.watchHealth(SERVICE);
      const client = daemon.as(COORDINATOR);
      const sessionId = randomUUID();
      const acked = await acceptSome(client, sessionId, 3);

      // Load on a healthy session keeps the log busy while the doomed session's record is written.
      const load = Promise.all([0, 1, 2].map(() => proposeUntilRefused(daemon.as(COORDINATOR), sessionId)));
      const { ack } = await client.send({ envelope: sessionStart({ sessionId: doomed, participants: PARTICIPANTS, messageId: "doomed-start" }) });
      expect(ack).toMatchObject({ ok: false, error: { code: "INTERNAL_ERROR", message: "StorageFailed" } });

      expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
      const loaded = await load;
      acked.push(...loaded.flatMap((worker) => worker.acked));
      expect(health.statuses).toEqual(["SERVING", "NOT_SERVING"]);
      const fault = daemon
        .output()
        .split("\n")
        .find((line) => line.includes('"level":60'));
      expect(JSON.parse(fault ?? "{}")).toMatchObject({
        context: "storage",
        msg: "unrecoverable fault: health NOT_SERVING, stopping",
        err: { message: expect.stringContaining("log index update failed after a durable append; restart required: injected index failure") },
      });

      const restarted = await start({ MACP_DATA_DIR: dir });
      const reader = restarted.as(COORDINATOR);
      const history = await acceptedHistory(reader, sessionId);
      expect(new Set(history).size, "a message accepted twice").toBe(history.length);
      expect(acked.filter((id) => !history.includes(id)), "acknowledged but lost").toEqual([]);
      // A refused Send may still have reached the disk (it shared the failing group), like any
      // append that failed after its write; nothing else may appear.
      const refused = loaded.map((worker) => worker.refused);
      expect(history.filter((id) => !acked.includes(id) && !refused.includes(id))).toEqual([]);
      // The refused SessionStart had reached the disk: a retry is recognised, not applied twice.
      const retry = await reader.send({ envelope: sessionStart({ sessionId: doomed, participants: PARTICIPANTS, messageId: "doomed-start" }) });
      expect(retry.ack).toMatchObject({ ok: true, duplicate: true });
    },
  );

  for (const context of ["unhandledRejection", "uncaughtException"] as const) {
    it(`stops on an ${context} with the error logged in context, NOT_SERVING and exit status 1`, { timeout: 60_000 }, async () => {
      const dir = await dataDir();
      const daemon = await start({ MACP_DATA_DIR: dir, INJECT_FAULT: context }, preload("fault-on-signal.mjs"));
      const health = daemon.watchHealth(SERVICE);
      const sessionId = randomUUID();
      const acked = await acceptSome(daemon.as(COORDINATOR), sessionId, 2);

      daemon.signal("SIGUSR2");
      expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
      expect(health.statuses).toEqual(["SERVING", "NOT_SERVING"]);
      const fault = daemon
        .output()
        .split("\n")
        .find((line) => line.includes('"level":60'));
      expect(JSON.parse(fault ?? "{}")).toMatchObject({
        context,
        err: { message: context === "unhandledRejection" ? "injected unhandled rejection" : "injected uncaught exception" },
      });

      const restarted = await start({ MACP_DATA_DIR: dir });
      expect(await acceptedHistory(restarted.as(COORDINATOR), sessionId)).toEqual(acked);
    });
  }
});
