import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { buildEnvelope, buildSessionStart, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { ManualClock } from "@macp/core";
import { ModeId, SessionState, encodePayloadJson } from "@macp/protocol";
import type { Envelope, ModeDescriptor, PolicyDescriptor } from "@macp/protocol";
import { databaseUrl } from "@macp/test-support";
import { createLogger, loadConfig, startRuntime } from "../src/index.js";
import type { RuntimeHandle } from "../src/index.js";
import { statusOf } from "./support/runtime-harness.js";

/**
 * Restarts of the daemon on one file data directory (project decisions #3 and #5): what was
 * registered, accepted or decided before a restart is there after it. Each runtime runs
 * in-process with a manual clock, so "time passed while the daemon was down" is exact.
 */

const T0 = 1_800_000_000_000;
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const BOB = "agent://bob";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Where a daemon keeps its data: the MACP_* variables that select one storage location. */
type Storage = Readonly<Record<string, string>>;

const DATABASE_URL = databaseUrl();

/** A fresh file data directory. */
async function fileStorage(): Promise<Storage> {
  const path = await mkdtemp(join(tmpdir(), "macp-restart-"));
  cleanups.push(() => rm(path, { recursive: true, force: true }));
  return { MACP_DATA_DIR: path };
}

/** A fresh schema on the real Postgres server, dropped afterwards. */
async function postgresStorage(): Promise<Storage> {
  const schema = `restart_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });
  return { MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: DATABASE_URL, MACP_DATABASE_SCHEMA: schema };
}

/** A runtime on `dir` whose clock reads `now`, with clients closed before it stops. */
class Daemon {
  private readonly clients: MacpClient[] = [];
  private stopped = false;

  private constructor(readonly handle: RuntimeHandle) {}

  static async start(storage: Storage, now: number, extra: Readonly<Record<string, string>> = {}): Promise<Daemon> {
    const config = loadConfig({
      ...storage,
      ...extra,
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
    });
    const daemon = new Daemon(await startRuntime(config, { logger: createLogger("silent"), clock: new ManualClock(now) }));
    cleanups.push(() => daemon.stop());
    return daemon;
  }

  as(sender: string): MacpClient {
    const client = createMacpClient({ address: this.handle.address, auth: { bearer: sender }, defaultDeadlineMs: 10_000 });
    this.clients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const client of this.clients) client.close();
    await this.handle.close();
  }
}

async function send(client: MacpClient, envelope: Envelope): Promise<void> {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType} ${envelope.messageId}: ${ack?.error?.code} ${ack?.error?.message}`);
}

function start(sessionId: string, mode: string = ModeId.Decision, ttlMs = 600_000): Envelope {
  return buildSessionStart({
    mode,
    sessionId,
    messageId: randomUUID(),
    payload: { intent: "restart", participants: [COORDINATOR, ALICE, BOB], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs },
  });
}

function decision(sessionId: string, messageType: string, json: Record<string, unknown>): Envelope {
  return buildEnvelope({
    mode: ModeId.Decision,
    sessionId,
    messageType,
    messageId: randomUUID(),
    payload: encodePayloadJson(ModeId.Decision, messageType, json),
  });
}

/** Message ids a passive subscriber gets after `afterSequence`, up to the last accepted envelope. */
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

async function stateOf(client: MacpClient, sessionId: string): Promise<SessionState | undefined> {
  const { sessions } = await client.listSessions();
  return sessions.find((session) => session.sessionId === sessionId)?.state;
}

/** State through GetSession, which loads a finished session from storage (a restart leaves those on disk). */
async function storedStateOf(client: MacpClient, sessionId: string): Promise<SessionState | undefined> {
  return (await client.getSession({ sessionId })).metadata?.state;
}

const POLICY: PolicyDescriptor = {
  policyId: "policy.restart-majority",
  mode: ModeId.Decision,
  description: "majority of at least two voters",
  rules: JSON.stringify({ voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } } }),
  schemaVersion: 1,
  registeredAtUnixMs: 0n,
};

const EXT_MODE: ModeDescriptor = {
  mode: "ext.restart-review.v1",
  modeVersion: "1.0.0",
  title: "Review",
  description: "an extension mode registered at run time",
  determinismClass: "semantic-deterministic",
  participantModel: "declared",
  messageTypes: ["SessionStart", "Comment", "Commitment"],
  terminalMessageTypes: [],
  schemaUris: {},
};

describe.each([
  ["file", fileStorage],
  ["postgres", postgresStorage],
])("daemon restart on the same %s storage", (_backend, dataDir) => {
  it("lists policies and extension modes registered before the restart, and serves their sessions", async () => {
    const dir = await dataDir();
    const before = await Daemon.start(dir, T0);
    const admin = before.as("agent://admin");
    expect(await admin.registerPolicy({ policyDescriptor: POLICY })).toEqual({ ok: true, error: "" });
    expect(await admin.registerExtMode({ modeDescriptor: EXT_MODE })).toEqual({ ok: true, error: "" });
    const extSession = randomUUID();
    await send(before.as(COORDINATOR), start(extSession, EXT_MODE.mode));
    const policiesBefore = (await admin.listPolicies()).descriptors;
    const modesBefore = (await admin.listExtModes()).modes;
    await before.stop();

    const after = await Daemon.start(dir, T0 + 1_000);
    const reader = after.as("agent://admin");
    const policiesAfter = (await reader.listPolicies()).descriptors;
    const modesAfter = (await reader.listExtModes()).modes;

    expect(policiesAfter.map((p) => p.policyId)).toContain(POLICY.policyId);
    expect(policiesAfter).toEqual(policiesBefore);
    expect(modesAfter.map((m) => m.mode)).toContain(EXT_MODE.mode);
    expect(modesAfter).toEqual(modesBefore);
    expect((await reader.getPolicy({ policyId: POLICY.policyId })).policyDescriptor).toEqual(
      policiesBefore.find((p) => p.policyId === POLICY.policyId),
    );
    expect(await stateOf(reader, extSession)).toBe(SessionState.SESSION_STATE_OPEN);
  });

  it("removes a finished session's history once past MACP_HISTORY_RETENTION_SECS, archiving it first; it is NOT_FOUND after", async () => {
    const dir = await dataDir();
    const archive = await mkdtemp(join(tmpdir(), "macp-archive-"));
    cleanups.push(() => rm(archive, { recursive: true, force: true }));
    const retention = { MACP_HISTORY_RETENTION_SECS: "3600", MACP_CLEANUP_INTERVAL_SECS: "1", MACP_ARCHIVE_DIR: archive };
    const before = await Daemon.start(dir, T0, retention);
    const coordinator = before.as(COORDINATOR);
    const [finished, open] = [randomUUID(), randomUUID()];
    await send(coordinator, start(finished, ModeId.Decision, 86_400_000));
    await send(coordinator, start(open, ModeId.Decision, 86_400_000));
    const proposal = decision(finished, "Proposal", { proposal_id: "p1", option: "ship" });
    await send(coordinator, proposal);
    expect((await coordinator.cancelSession({ sessionId: finished, reason: "done" })).ack?.ok).toBe(true);
    await before.stop();

    // An hour and a bit later the finished session is past retention; the open one is not finished.
    const after = await Daemon.start(dir, T0 + 3_700_000, retention);
    const reader = after.as(COORDINATOR);
    const deadline = Date.now() + 30_000;
    let status = "OK";
    while (Date.now() < deadline && status === "OK") {
      status = await statusOf(reader.getSession({ sessionId: finished }));
      if (status === "OK") await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe("NOT_FOUND");
    const { ack } = await reader.send({ envelope: proposal });
    expect(ack?.error?.code).toBe("SESSION_NOT_FOUND");
    expect(await storedStateOf(reader, open)).toBe(SessionState.SESSION_STATE_OPEN);
    const files = await readdir(archive);
    expect(files).toHaveLength(1);
    const lines = (await readFile(join(archive, files[0] ?? ""), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { session_id: string; log: { message_type: string }[] });
    expect(lines.map((line) => line.session_id)).toEqual([finished]);
    expect(lines[0]?.log.map((entry) => entry.message_type)).toEqual(["SessionStart", "PolicyBinding", "Proposal", "SessionCancel"]);
  });

  it("streams a resolved session's full history after the restart, with the same sequence numbers", async () => {
    const dir = await dataDir();
    const before = await Daemon.start(dir, T0);
    const coordinator = before.as(COORDINATOR);
    const sessionId = randomUUID();
    await send(coordinator, start(sessionId));
    await send(coordinator, decision(sessionId, "Proposal", { proposal_id: "p1", option: "ship" }));
    await send(before.as(ALICE), decision(sessionId, "Vote", { proposal_id: "p1", vote: "APPROVE" }));
    await send(before.as(BOB), decision(sessionId, "Vote", { proposal_id: "p1", vote: "APPROVE" }));
    await send(
      coordinator,
      decision(sessionId, "Commitment", {
        commitment_id: "c1",
        action: "decision.selected",
        authority_scope: "restart",
        reason: "approved",
        mode_version: "1.0.0",
        configuration_version: "cfg-1",
        policy_version: "",
        outcome_positive: true,
      }),
    );
    const full = await history(coordinator, sessionId);
    const afterTwo = await history(coordinator, sessionId, 2);
    expect(full).toHaveLength(5);
    expect(afterTwo).toEqual(full.slice(2));
    await before.stop();

    const after = await Daemon.start(dir, T0 + 1_000);
    const observer = after.as(ALICE);

    // Finished sessions are not rebuilt at start: ListSessions shows what is in memory.
    expect(await stateOf(observer, sessionId)).toBeUndefined();
    expect(await storedStateOf(observer, sessionId)).toBe(SessionState.SESSION_STATE_RESOLVED);
    expect(await stateOf(observer, sessionId)).toBe(SessionState.SESSION_STATE_RESOLVED);
    expect(await history(observer, sessionId)).toEqual(full);
    for (let afterSequence = 1; afterSequence <= full.length; afterSequence++) {
      expect(await history(observer, sessionId, afterSequence), `after_sequence ${afterSequence}`).toEqual(full.slice(afterSequence));
    }
    const late = await observer.send({ envelope: decision(sessionId, "Vote", { proposal_id: "p1", vote: "REJECT" }) });
    expect(late.ack?.error?.code).toBe("SESSION_NOT_OPEN");
  });

  it("expires at start a session whose TTL passed while the daemon was down, and records it", async () => {
    const dir = await dataDir();
    const before = await Daemon.start(dir, T0);
    const coordinator = before.as(COORDINATOR);
    const [short, long] = [randomUUID(), randomUUID()];
    await send(coordinator, start(short, ModeId.Decision, 60_000));
    await send(coordinator, start(long, ModeId.Decision, 3_600_000));
    expect(await stateOf(coordinator, short)).toBe(SessionState.SESSION_STATE_OPEN);
    await before.stop();

    const afterDeadline = await Daemon.start(dir, T0 + 60_001);
    const reader = afterDeadline.as(COORDINATOR);
    // ListSessions never expires lazily, so an EXPIRED state here was set by the start-up sweep.
    expect(await stateOf(reader, short)).toBe(SessionState.SESSION_STATE_EXPIRED);
    expect(await stateOf(reader, long)).toBe(SessionState.SESSION_STATE_OPEN);
    await afterDeadline.stop();

    // A clock back before the deadline cannot reopen it: the expiry is in the log, not recomputed.
    const rewound = await Daemon.start(dir, T0 + 1_000);
    expect(await storedStateOf(rewound.as(COORDINATOR), short)).toBe(SessionState.SESSION_STATE_EXPIRED);
  });
});
