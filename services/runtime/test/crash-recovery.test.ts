import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildEnvelope, buildSessionStart, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { ModeId, SessionState, encodePayloadJson } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";

/**
 * The daemon as a separate process, killed with SIGKILL while clients are sending: nothing it
 * acknowledged may be missing after a restart on the same data directory ("no ack without a
 * durable record", protocol.md §6.2), sequence numbers stay put (decision #5), and a damaged
 * log tail is repaired at start. Rounds, senders and messages are bounded.
 */

/** The built daemon; the root `pnpm test` builds before vitest runs. */
const DAEMON_MAIN = join(import.meta.dirname, "../dist/main.js");

const COORDINATOR = "agent://coordinator";
const SENDERS = ["agent://s1", "agent://s2", "agent://s3", "agent://s4"];
const SESSION_COUNT = 4;
/** Concurrent Send loops per sender. */
const WORKERS_PER_SENDER = 3;
/** Acknowledgements in a round before the daemon is killed (the other loops still have Sends in flight). */
const ACKS_BEFORE_KILL = 60;
/** Bound of each Send loop; the kill comes long before it. */
const MAX_SENDS_PER_WORKER = 400;
const KILL_ROUNDS = 3;
/** How long a daemon may take to report its address, and a snapshot to reach disk; only bounds a failure. */
const WAIT_MS = 30_000;

/** Log layout (packages/storage/src/file/file-layout.ts, frame.ts): segment header, then `u32 bodyLength | u32 | u32 | body` frames. */
const WAL_DIR = "wal";
const SNAPSHOT_LOG_DIR = "snapshot-log";
const SEGMENT_HEADER_BYTES = 16;
const FRAME_HEADER_BYTES = 12;
const MIN_BODY_BYTES = 3;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "macp-crash-"));
  cleanups.push(() => rm(path, { recursive: true, force: true }));
  return path;
}

/** One daemon child process on an ephemeral port. */
class Daemon {
  private readonly clients: MacpClient[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
    readonly output: () => string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  }

  static async start(dir: string, env: Record<string, string> = {}): Promise<Daemon> {
    if (!existsSync(DAEMON_MAIN)) {
      throw new Error(`${DAEMON_MAIN} is missing: build first (npx -y pnpm@10 run build; the root \`pnpm test\` does)`);
    }
    const child = spawn(process.execPath, [DAEMON_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        MACP_ALLOW_INSECURE: "1",
        MACP_BIND_ADDR: "127.0.0.1:0",
        MACP_DATA_DIR: dir,
        MACP_METRICS_ADDR: "off",
        MACP_LOG_LEVEL: "warn",
        MACP_MESSAGE_LIMIT_PER_MINUTE: "1000000",
        MACP_SESSION_START_LIMIT_PER_MINUTE: "1000",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${output}`)), WAIT_MS);
      const check = (): void => {
        const match = /listening on (\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited with ${code} before listening:\n${output}`));
      });
    });
    const daemon = new Daemon(child, address, () => output);
    cleanups.push(() => daemon.kill());
    return daemon;
  }

  as(sender: string): MacpClient {
    const client = createMacpClient({ address: this.address, auth: { bearer: sender }, defaultDeadlineMs: 10_000 });
    this.clients.push(client);
    return client;
  }

  /** SIGKILL now: no shutdown flush, no final snapshots. */
  signalKill(): void {
    this.child.kill("SIGKILL");
  }

  async kill(): Promise<void> {
    this.signalKill();
    await this.exited;
    for (const client of this.clients.splice(0)) client.close();
  }
}

function start(sessionId: string): Envelope {
  return buildSessionStart({
    mode: ModeId.Decision,
    sessionId,
    messageId: randomUUID(),
    payload: {
      intent: "crash test",
      participants: [COORDINATOR, ...SENDERS],
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 3_600_000,
    },
  });
}

/** A decision Proposal; decision sessions take any number of them before voting starts. */
function proposal(sessionId: string, messageId = randomUUID()): Envelope {
  return buildEnvelope({
    mode: ModeId.Decision,
    sessionId,
    messageType: "Proposal",
    messageId,
    payload: encodePayloadJson(ModeId.Decision, "Proposal", { proposal_id: messageId, option: "o" }),
  });
}

async function sendOk(client: MacpClient, envelope: Envelope): Promise<void> {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType} ${envelope.messageId}: ${ack?.error?.code} ${ack?.error?.message}`);
}

/** Every accepted message id of a session, from a passive subscription from the start to the last accepted one. */
async function history(client: MacpClient, sessionId: string, afterSequence = 0): Promise<string[]> {
  const stream = client.streamSession();
  stream.subscribe(sessionId, afterSequence);
  stream.end();
  const ids: string[] = [];
  for await (const frame of stream) {
    if (frame.response?.$case === "error") throw new Error(`${frame.response.value.code}: ${frame.response.value.message}`);
    if (frame.response?.$case === "envelope") ids.push(frame.response.value.messageId);
  }
  return ids;
}

/** Message ids acknowledged ok, per session. */
type Acked = Map<string, string[]>;

function record(acked: Acked, sessionId: string, messageId: string): void {
  acked.set(sessionId, [...(acked.get(sessionId) ?? []), messageId]);
}

/**
 * Concurrent Sends from every sender to every session until `ACKS_BEFORE_KILL` acknowledgements,
 * then SIGKILL while the other loops still wait for theirs. Acks that arrive after the signal
 * count too: the daemon sent them, so their records must be durable.
 */
async function loadAndKill(daemon: Daemon, sessions: readonly string[], acked: Acked): Promise<void> {
  let acks = 0;
  let killed = false;
  const worker = async (sender: string, index: number): Promise<void> => {
    const client = daemon.as(sender);
    for (let i = 0; i < MAX_SENDS_PER_WORKER && !killed; i++) {
      const sessionId = sessions[(index + i) % sessions.length] as string;
      const envelope = proposal(sessionId);
      let response;
      try {
        response = await client.send({ envelope });
      } catch {
        return; // the daemon is gone: this Send was never acknowledged
      }
      if (!response.ack?.ok) throw new Error(`unexpected rejection: ${response.ack?.error?.code} ${response.ack?.error?.message}`);
      record(acked, sessionId, envelope.messageId);
      if (++acks >= ACKS_BEFORE_KILL && !killed) {
        killed = true;
        daemon.signalKill();
      }
    }
  };
  await Promise.all(SENDERS.flatMap((sender, s) => Array.from({ length: WORKERS_PER_SENDER }, (_, w) => worker(sender, s * WORKERS_PER_SENDER + w))));
  expect(killed, "the load ended before the kill").toBe(true);
  await daemon.kill();
}

/** Checks recovered histories: every acknowledged id present once, and earlier histories still their prefixes. */
async function expectRecovered(
  client: MacpClient,
  sessions: readonly string[],
  acked: Acked,
  previous: Map<string, string[]>,
  lost: ReadonlySet<string> = new Set(),
): Promise<void> {
  for (const sessionId of sessions) {
    const ids = await history(client, sessionId);
    expect(new Set(ids).size, `duplicates in ${sessionId}`).toBe(ids.length);
    const missing = (acked.get(sessionId) ?? []).filter((id) => !ids.includes(id) && !lost.has(id));
    expect(missing, `acknowledged but not recovered in ${sessionId}`).toEqual([]);
    const before = (previous.get(sessionId) ?? []).filter((id) => !lost.has(id));
    expect(ids.slice(0, before.length), `history of ${sessionId} before the crash`).toEqual(before);
    previous.set(sessionId, ids);
  }
}

/** Each session accepts a new message, sequenced right after its recovered history. */
async function expectSessionsContinue(client: MacpClient, sessions: readonly string[]): Promise<void> {
  for (const sessionId of sessions) {
    const before = await history(client, sessionId);
    const next = proposal(sessionId);
    await sendOk(client, next);
    expect(await history(client, sessionId, before.length)).toEqual([next.messageId]);
    expect(await history(client, sessionId)).toEqual([...before, next.messageId]);
  }
}

async function openSessions(daemon: Daemon, acked: Acked): Promise<string[]> {
  const coordinator = daemon.as(COORDINATOR);
  const sessions = Array.from({ length: SESSION_COUNT }, () => randomUUID());
  for (const sessionId of sessions) {
    const envelope = start(sessionId);
    await sendOk(coordinator, envelope);
    record(acked, sessionId, envelope.messageId);
  }
  return sessions;
}

/** The newest log segment and the byte ranges of its complete frames. */
async function lastSegment(dir: string): Promise<{ path: string; bytes: Buffer; frames: { start: number; end: number }[] }> {
  const names = (await readdir(join(dir, WAL_DIR))).filter((name) => name.endsWith(".wal")).sort();
  const path = join(dir, WAL_DIR, names.at(-1) ?? "");
  const bytes = await readFile(path);
  const frames: { start: number; end: number }[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  while (offset + FRAME_HEADER_BYTES <= bytes.length) {
    const bodyLength = bytes.readUInt32LE(offset);
    const end = offset + FRAME_HEADER_BYTES + bodyLength;
    if (bodyLength < MIN_BODY_BYTES || end > bytes.length) break;
    frames.push({ start: offset, end });
    offset = end;
  }
  return { path, bytes, frames };
}

/** Cuts the last complete log record short by a few bytes (and drops any torn write after it); returns its bytes. */
async function cutLastRecord(dir: string): Promise<Buffer> {
  const segment = await lastSegment(dir);
  const last = segment.frames.at(-1);
  if (!last) throw new Error("the log has no complete record");
  await truncate(segment.path, last.end - 3);
  return segment.bytes.subarray(last.start, last.end);
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("crash recovery of the daemon process", () => {
  it("keeps every acknowledged message, and its sequence, through repeated SIGKILLs under concurrent load", { timeout: 180_000 }, async () => {
    const dir = await dataDir();
    const acked: Acked = new Map();
    const seen = new Map<string, string[]>();
    let daemon = await Daemon.start(dir, { MACP_CHECKPOINT_INTERVAL: "8" });
    const admin = daemon.as("agent://admin");
    const policyId = "policy.crash-majority";
    const registered = await admin.registerPolicy({
      policyDescriptor: {
        policyId,
        mode: ModeId.Decision,
        description: "registered before the crashes",
        rules: JSON.stringify({ voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } } }),
        schemaVersion: 1,
        registeredAtUnixMs: 0n,
      },
    });
    expect(registered.ok).toBe(true);
    const sessions = await openSessions(daemon, acked);

    for (let round = 1; round <= KILL_ROUNDS; round++) {
      await loadAndKill(daemon, sessions, acked);
      daemon = await Daemon.start(dir, { MACP_CHECKPOINT_INTERVAL: "8" });
      await expectRecovered(daemon.as(COORDINATOR), sessions, acked, seen);
    }

    const client = daemon.as(COORDINATOR);
    expect((await client.listPolicies()).descriptors.map((p) => p.policyId)).toContain(policyId);
    const { sessions: listed } = await client.listSessions();
    expect(listed.filter((s) => sessions.includes(s.sessionId)).map((s) => s.state)).toEqual(
      sessions.map(() => SessionState.SESSION_STATE_OPEN),
    );
    await expectSessionsContinue(client, sessions);
    const total = [...acked.values()].reduce((sum, ids) => sum + ids.length, 0);
    expect(total).toBeGreaterThanOrEqual(SESSION_COUNT + KILL_ROUNDS * ACKS_BEFORE_KILL);
  });

  it("starts on a log whose last record was cut short, losing only that record, and sessions go on", { timeout: 120_000 }, async () => {
    const dir = await dataDir();
    const acked: Acked = new Map();
    const daemon = await Daemon.start(dir);
    const sessions = await openSessions(daemon, acked);
    await loadAndKill(daemon, sessions, acked);

    const cut = await cutLastRecord(dir);
    const lost = new Set([...acked.values()].flat().filter((id) => cut.includes(Buffer.from(id))));
    expect(lost.size, "one record holds one Send").toBeLessThanOrEqual(1);

    const restarted = await Daemon.start(dir);
    const client = restarted.as(COORDINATOR);
    await expectRecovered(client, sessions, acked, new Map(), lost);
    for (const sessionId of sessions) {
      const ids = await history(client, sessionId);
      expect(ids.filter((id) => lost.has(id)), `cut record resurfaced in ${sessionId}`).toEqual([]);
    }
    await expectSessionsContinue(client, sessions);
  });

  it("never restores a snapshot of a record that was cut off, even once the log has grown past it again", { timeout: 120_000 }, async () => {
    const dir = await dataDir();
    const first = await Daemon.start(dir);
    const coordinator = first.as(COORDINATOR);
    const sessionId = randomUUID();
    const accepted = [start(sessionId), proposal(sessionId), proposal(sessionId)];
    for (const envelope of accepted) await sendOk(coordinator, envelope);
    const suspended = await coordinator.suspendSession({ sessionId, reason: "maintenance" });
    expect(suspended.ack?.ok).toBe(true);
    // The suspension writes one log record and a snapshot covering it; wait for that snapshot.
    // Snapshots are records of the snapshot log; this daemon holds only this session.
    const snapshotLog = join(dir, SNAPSHOT_LOG_DIR);
    const holdsSuspendedSnapshot = async (): Promise<boolean> => {
      const segments = existsSync(snapshotLog) ? await readdir(snapshotLog) : [];
      const contents = await Promise.all(segments.map((name) => readFile(join(snapshotLog, name))));
      return contents.some((bytes) => bytes.includes('"status":"Suspended"'));
    };
    await waitFor(holdsSuspendedSnapshot, "the snapshot");
    await first.kill();

    // The suspension's record is lost; the snapshot that covers it stays behind.
    expect((await cutLastRecord(dir)).includes(Buffer.from("SessionSuspend"))).toBe(true);
    const second = await Daemon.start(dir);
    const afterCut = second.as(COORDINATOR);
    expect((await afterCut.getSession({ sessionId })).metadata?.state).toBe(SessionState.SESSION_STATE_OPEN);
    // One new message brings the log back to the snapshot's length, with different content.
    const next = proposal(sessionId);
    await sendOk(afterCut, next);
    await second.kill();

    const third = await Daemon.start(dir);
    const reader = third.as(COORDINATOR);
    expect((await reader.getSession({ sessionId })).metadata?.state).toBe(SessionState.SESSION_STATE_OPEN);
    expect(await history(reader, sessionId)).toEqual([...accepted, next].map((envelope) => envelope.messageId));
    const replayedDuplicate = await reader.send({ envelope: next });
    expect(replayedDuplicate.ack).toMatchObject({ ok: true, duplicate: true });
    await expectSessionsContinue(reader, [sessionId]);
  });
});
