import { randomUUID } from "node:crypto";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { MacpClient } from "@macp/client";
import { databaseUrl, uniqueName } from "@macp/test-support";
import { DAEMON_WAIT_MS, DaemonProcess, acceptedHistory } from "./support/daemon-process.js";
import { proposal, sessionStart } from "./support/runtime-harness.js";

/**
 * Split brain on Postgres: the connection holding a daemon's schema writer lock is terminated
 * while clients are sending. The daemon must stop (NOT_SERVING, exit 1) rather than keep
 * acknowledging; a second daemon takes the schema over; and the stored log never holds two
 * accepted messages at one sequence number, nor loses one that either daemon acknowledged.
 * Both daemons are built binaries on the real Postgres server, in a schema of this file's own.
 * The file backend's counterpart: a daemon whose data directory LOCK disappears stops too.
 */

const DATABASE_URL = databaseUrl();
const SCHEMA = uniqueName("fence");
const SERVICE = "macp.v1.MACPRuntimeService";
const COORDINATOR = "agent://coordinator";
const SENDERS = ["agent://s1", "agent://s2", "agent://s3"];
const SESSION_COUNT = 2;
/** Acknowledgements by the first daemon before its lock connection is terminated. */
const ACKS_BEFORE_TERMINATION = 40;
/** Proposals each sender sends to the second daemon. */
const SECOND_DAEMON_SENDS = 10;

const admin = new pg.Client({ connectionString: DATABASE_URL });
const connected = admin.connect();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await connected;
  await admin.query(`drop schema if exists ${pg.escapeIdentifier(SCHEMA)} cascade`);
  await admin.end();
});

const ENV = {
  MACP_STORAGE_BACKEND: "postgres",
  MACP_DATABASE_URL: DATABASE_URL,
  MACP_DATABASE_SCHEMA: SCHEMA,
  MACP_SHUTDOWN_GRACE_MS: "2000",
};

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  await connected;
  return (await admin.query<T>(text, values)).rows;
}

/** Starts a daemon on the schema, retrying while the previous holder's lock is still being released. */
async function startOnSchema(): Promise<DaemonProcess> {
  const deadline = Date.now() + DAEMON_WAIT_MS;
  for (;;) {
    try {
      const daemon = await DaemonProcess.start({ env: ENV });
      cleanups.push(() => daemon.kill());
      return daemon;
    } catch (error) {
      if (!String(error).includes("in use by another runtime") || Date.now() > deadline) throw error;
    }
  }
}

/** Terminates the backend holding the schema's writer lock (advisory key `hashtext('macp-ts:<schema>')`). */
async function terminateLockHolder(): Promise<void> {
  const rows = await query<{ terminated: boolean }>(
    `select pg_terminate_backend(pid) as terminated from pg_locks
     where locktype = 'advisory' and granted and objsubid = 1
       and ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint`,
    [`macp-ts:${SCHEMA}`],
  );
  expect(rows).toEqual([{ terminated: true }]);
}

interface Acked {
  readonly messageId: string;
  readonly sentAt: number;
}

/** Proposals round-robin over `sessions` until one is refused (or `limit` are acknowledged). */
async function propose(client: MacpClient, sessions: readonly string[], acked: Acked[], limit = Number.POSITIVE_INFINITY): Promise<void> {
  for (let i = 0; i < limit; i++) {
    const envelope = proposal(sessions[i % sessions.length] as string, randomUUID(), `p-${randomUUID()}`);
    const sentAt = Date.now();
    const ack = await client.send({ envelope }).then(
      (response) => response.ack,
      () => undefined,
    );
    if (!ack?.ok) return;
    acked.push({ messageId: envelope.messageId, sentAt });
  }
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DAEMON_WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("writer fencing on Postgres", () => {
  it("stops a daemon that lost its writer lock under load, and the successor's log never forks", { timeout: 120_000 }, async () => {
    const first = await startOnSchema();
    const health = first.watchHealth(SERVICE);
    const sessions: string[] = [];
    const ackedByFirst: Acked[] = [];
    for (let s = 0; s < SESSION_COUNT; s++) {
      const sessionId = randomUUID();
      const start = sessionStart({ sessionId, participants: [COORDINATOR, ...SENDERS], messageId: randomUUID() });
      const { ack } = await first.as(COORDINATOR).send({ envelope: start });
      expect(ack?.ok).toBe(true);
      sessions.push(sessionId);
      ackedByFirst.push({ messageId: start.messageId, sentAt: Date.now() });
    }

    const firstLoad = Promise.all(SENDERS.map((sender) => propose(first.as(sender), sessions, ackedByFirst)));
    await waitUntil(() => ackedByFirst.length >= SESSION_COUNT + ACKS_BEFORE_TERMINATION, "load on the first daemon");
    await terminateLockHolder();

    const second = await startOnSchema();
    const secondListening = Date.now();
    const ackedBySecond: Acked[] = [];
    await Promise.all(SENDERS.map((sender) => propose(second.as(sender), sessions, ackedBySecond, SECOND_DAEMON_SENDS)));
    await firstLoad;

    // The first daemon stopped rather than serve without its lock.
    expect(await first.waitForExit()).toEqual({ code: 1, signal: null });
    expect(health.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    const fault = first
      .output()
      .split("\n")
      .find((line) => line.includes('"level":60'));
    expect(JSON.parse(fault ?? "{}")).toMatchObject({
      context: "storage",
      err: { message: expect.stringContaining("postgres writer-lock connection lost") },
    });
    // Nothing the first daemon was sent once the second had the schema was acknowledged.
    expect(ackedByFirst.filter((ack) => ack.sentAt >= secondListening)).toEqual([]);
    expect(ackedBySecond).toHaveLength(SENDERS.length * SECOND_DAEMON_SENDS);

    // The stored log: one accepted message per sequence number, gapless, and every ack in it once.
    const table = `${pg.escapeIdentifier(SCHEMA)}.log_entries`;
    const rows = await query<{ session_id: string; seq: string; message_id: string }>(
      `select session_id, seq::text, message_id from ${table} where kind = 'incoming' order by session_id, position`,
    );
    for (const sessionId of sessions) {
      const seqs = rows.filter((row) => row.session_id === sessionId).map((row) => Number(row.seq));
      expect(seqs, `sequence numbers of ${sessionId}`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    const stored = rows.map((row) => row.message_id);
    expect(new Set(stored).size, "a message stored twice").toBe(stored.length);
    const acked = [...ackedByFirst, ...ackedBySecond].map((ack) => ack.messageId);
    expect(acked.filter((id) => !stored.includes(id)), "acknowledged but not stored").toEqual([]);

    // The successor serves every session in full.
    const reader = second.as(COORDINATOR);
    const histories = (await Promise.all(sessions.map((sessionId) => acceptedHistory(reader, sessionId)))).flat();
    expect(histories.sort()).toEqual([...stored].sort());
  });
});

describe("writer fencing on the file backend", () => {
  it("stops a daemon whose data directory LOCK was removed, before it writes another record", { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "macp-fence-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const daemon = await DaemonProcess.start({ env: { MACP_DATA_DIR: dir, MACP_SHUTDOWN_GRACE_MS: "2000" } });
    cleanups.push(() => daemon.kill());
    const health = daemon.watchHealth(SERVICE);
    const client = daemon.as(COORDINATOR);
    const sessionId = randomUUID();
    const accepted = [sessionStart({ sessionId, participants: [COORDINATOR, ...SENDERS], messageId: randomUUID() }), proposal(sessionId, randomUUID())];
    for (const envelope of accepted) expect((await client.send({ envelope })).ack?.ok).toBe(true);

    await unlink(join(dir, "LOCK"));
    const { ack } = await client.send({ envelope: proposal(sessionId, randomUUID(), "p2") });
    expect(ack).toMatchObject({ ok: false, error: { code: "INTERNAL_ERROR" } });
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    expect(health.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    const fault = daemon
      .output()
      .split("\n")
      .find((line) => line.includes('"level":60'));
    expect(JSON.parse(fault ?? "{}")).toMatchObject({
      context: "storage",
      err: { message: expect.stringContaining(`data directory lock ${join(dir, "LOCK")} was removed`) },
    });

    const restarted = await DaemonProcess.start({ env: { MACP_DATA_DIR: dir } });
    cleanups.push(() => restarted.kill());
    expect(await acceptedHistory(restarted.as(COORDINATOR), sessionId)).toEqual(accepted.map((envelope) => envelope.messageId));
  });
});
