import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kernel, ManualClock } from "@macp/core";
import { serializeSessionState } from "@macp/core/internal";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, decodePayload, encodePayload } from "@macp/protocol";
import { exportHistory, rebuildSession } from "@macp/replay";
import { FileStore } from "@macp/storage";
import { replayCommand, runCli, sessionCommand, sessionsCommand, storeSource, verifyCommand } from "@macp/cli";
import type { SessionSource } from "@macp/cli";
import { ALICE, BOB, COORDINATOR, EXT_MODE, SESSIONS, T0, captureOutput, quietLogger, tempDir, writeDataDir } from "./support.js";

let dir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  dir = await tempDir();
  await writeDataDir(dir.path);
});
afterAll(() => dir.remove());

/** Runs `body` against a store source over the shared data dir, closing it afterwards. */
async function withSource<T>(body: (source: SessionSource, store: FileStore) => Promise<T>, path = dir.path): Promise<T> {
  const store = await FileStore.open({ dir: path, logger: quietLogger });
  const source = await storeSource(store, path);
  try {
    return await body(source, store);
  } finally {
    await source.close();
  }
}

describe("macp sessions (data directory)", () => {
  it("lists every stored session with its replayed status", async () => {
    const output = captureOutput();

    const code = await withSource((source) => sessionsCommand(source, output, { json: false }));

    expect(code).toBe(0);
    expect(output.stderr).toEqual([]);
    expect(output.stdout[0]).toMatch(/^SESSION\s+MODE\s+STATUS\s+INITIATOR\s+PARTICIPANTS\s+MESSAGES\s+STARTED$/);
    const statuses = output.stdout.slice(1).map((line) => line.split(/\s+/).slice(0, 3));
    expect(statuses).toEqual([
      [SESSIONS.resolved, ModeId.Decision, "Resolved"],
      [SESSIONS.open, ModeId.Decision, "Open"],
      [SESSIONS.cancelled, ModeId.Proposal, "Cancelled"],
      [SESSIONS.extension, EXT_MODE, "Open"],
    ]);
  });

  it("prints one JSON object per session with --json", async () => {
    const output = captureOutput();

    await withSource((source) => sessionsCommand(source, output, { json: true }));

    const rows = output.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({
      sessionId: SESSIONS.resolved,
      mode: ModeId.Decision,
      status: "Resolved",
      initiator: COORDINATOR,
      participants: [COORDINATOR, ALICE, BOB],
      startedAtUnixMs: T0 + 100,
      expiresAtUnixMs: T0 + 100 + 60_000,
      acceptedMessages: 4,
    });
  });

  it("lists a session that no longer replays as Unrecoverable and says why on stderr", async () => {
    const copy = await tempDir();
    try {
      await writeDataDir(copy.path);
      const store = await FileStore.open({ dir: copy.path, logger: quietLogger });
      await store.saveRegistry("modes", JSON.stringify(new ModeRegistry().exportState()));
      await store.close();
      const output = captureOutput();

      await withSource((source) => sessionsCommand(source, output, { json: false }), copy.path);

      expect(output.stdout.find((line) => line.startsWith(SESSIONS.extension))).toMatch(/Unrecoverable/);
      expect(output.stderr).toEqual([`${SESSIONS.extension}: mode '${EXT_MODE}' is not registered`]);
    } finally {
      await copy.remove();
    }
  });
});

describe("macp session (data directory)", () => {
  it("shows a session's replayed state with readable times and the decoded resolution", async () => {
    const output = captureOutput();

    const code = await withSource((source) => sessionCommand(source, output, SESSIONS.resolved, { json: false }));

    expect(code).toBe(0);
    const fields = new Map(output.stdout.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
    expect(fields.get("status")).toBe("Resolved");
    expect(fields.get("participants")).toBe(`${COORDINATOR}, ${ALICE}, ${BOB}`);
    expect(fields.get("startedAtUnixMs")).toBe(new Date(T0 + 100).toISOString());
    expect(fields.get("acceptedMessages")).toBe("4");
    expect(fields.get("rebuiltFrom")).toBe("snapshot and log tail");
    expect(fields.get("resolution")).toContain('"action":"decision.selected"');
    expect(JSON.parse(fields.get("modeState") ?? "")).toMatchObject({ phase: "Committed" });
  });

  it("prints the state as one JSON object with --json", async () => {
    const output = captureOutput();

    await withSource((source) => sessionCommand(source, output, SESSIONS.cancelled, { json: true }));

    expect(output.stdout).toHaveLength(1);
    expect(JSON.parse(output.stdout[0] ?? "")).toMatchObject({
      sessionId: SESSIONS.cancelled,
      status: "Cancelled",
      mode: ModeId.Proposal,
      lastSeq: 2,
      logLength: 4,
    });
  });

  it("fails with exit code 1 for an unknown session", async () => {
    const output = captureOutput();

    const code = await runCli(["session", "00000000-0000-4000-8000-0000000000ff", "--data-dir", dir.path], output, {});

    expect(code).toBe(1);
    expect(output.stderr).toEqual([`macp: session 00000000-0000-4000-8000-0000000000ff not found in ${dir.path}`]);
  });
});

describe("macp replay (data directory)", () => {
  it("prints the accepted history as a table with decoded payloads", async () => {
    const output = captureOutput();

    await withSource((source) => replayCommand(source, output, SESSIONS.resolved, { json: false, includeInternal: false }));

    expect(output.stdout[0]).toMatch(/^SEQ\s+TIME\s+SENDER\s+TYPE\s+MESSAGE ID\s+PAYLOAD$/);
    const rows = output.stdout.slice(1).map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => row.slice(0, 5))).toEqual([
      ["1", new Date(T0 + 100).toISOString(), COORDINATOR, "SessionStart", "a-0"],
      ["2", new Date(T0 + 200).toISOString(), COORDINATOR, "Proposal", "r-1"],
      ["3", new Date(T0 + 300).toISOString(), ALICE, "Vote", "r-2"],
      ["4", new Date(T0 + 400).toISOString(), COORDINATOR, "Commitment", "r-3"],
    ]);
    expect(rows[2]?.[5]).toBe('{"proposalId":"p1","vote":"APPROVE","reason":""}');
  });

  it("prints exactly the exported history as JSON lines with --json", async () => {
    const output = captureOutput();

    const expected = await withSource(async (source, store) => {
      await replayCommand(source, output, SESSIONS.open, { json: true, includeInternal: false });
      return exportHistory(await store.loadLog(SESSIONS.open));
    });

    expect(output.stdout).toEqual(expected);
  });

  it("includes runtime-internal records with --internal", async () => {
    const output = captureOutput();

    await withSource((source) => replayCommand(source, output, SESSIONS.cancelled, { json: false, includeInternal: true }));

    const rows = output.stdout.slice(1).map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => [row[0], row[1], row[4]])).toEqual([
      ["1", "incoming", "SessionStart"],
      ["1", "internal", "PolicyBinding"],
      ["2", "incoming", "Proposal"],
      ["2", "internal", "SessionCancel"],
    ]);
    expect(rows[3]?.[6]).toBe(`{"reason":"superseded","cancelledBy":"${COORDINATOR}"}`);
  });

  it("shows opaque extension payloads as text", async () => {
    const output = captureOutput();

    await withSource((source) => replayCommand(source, output, SESSIONS.extension, { json: false, includeInternal: false }));

    expect(output.stdout.at(-1)).toMatch(/Comment\s+x-1\s+looks good$/);
  });
});

describe("macp verify (data directory)", () => {
  it("passes every stored session and exits 0", async () => {
    const output = captureOutput();

    const code = await withSource((source) => verifyCommand(source, output, [], { json: false }));

    expect(code).toBe(0);
    expect(output.stdout.slice(0, 4).map((line) => line.split(/\s+/).slice(0, 2))).toEqual(
      [SESSIONS.resolved, SESSIONS.open, SESSIONS.cancelled, SESSIONS.extension].sort().map((id) => ["ok", id]),
    );
    expect(output.stdout[4]).toBe(`4 session(s) verified, 0 mismatch(es) in ${dir.path}`);
  });

  it("reports a snapshot that disagrees with its log and exits 1", async () => {
    const copy = await tempDir();
    try {
      await writeDataDir(copy.path);
      const store = await FileStore.open({ dir: copy.path, logger: quietLogger });
      const { state } = await rebuildSession(store, new ModeRegistry(), SESSIONS.open);
      const tampered = { ...state, record: { ...state.record, intent: "rewritten" } };
      await store.writeSnapshot(SESSIONS.open, { logLength: state.record.logLength, state: serializeSessionState(tampered) });
      await store.close();
      const output = captureOutput();

      const code = await withSource((source) => verifyCommand(source, output, [], { json: true }), copy.path);

      expect(code).toBe(1);
      const results = output.stdout.map((line) => JSON.parse(line) as { sessionId: string; ok: boolean; error?: string });
      expect(results.filter((result) => !result.ok)).toEqual([
        expect.objectContaining({ sessionId: SESSIONS.open, error: "snapshot plus tail differs from full replay" }),
      ]);
    } finally {
      await copy.remove();
    }
  });

  it("verifies only the named sessions, and fails for a name it does not know", async () => {
    const named = captureOutput();
    const unknown = captureOutput();

    const namedCode = await runCli(["verify", SESSIONS.open, "--data-dir", dir.path], named, {});
    const unknownCode = await runCli(["verify", "00000000-0000-4000-8000-0000000000ff", "--data-dir", dir.path], unknown, {});

    expect(namedCode).toBe(0);
    expect(named.stdout).toHaveLength(2);
    expect(unknownCode).toBe(1);
    expect(unknown.stderr[0]).toMatch(/session 00000000-0000-4000-8000-0000000000ff not found/);
  });
});

describe("runCli against storage", () => {
  it("reads MACP_DATA_DIR when no --data-dir is given", async () => {
    const output = captureOutput();

    const code = await runCli(["sessions", "--json"], output, { MACP_DATA_DIR: dir.path });

    expect(code).toBe(0);
    expect(output.stdout).toHaveLength(4);
  });

  it("refuses a data directory that does not exist instead of creating one", async () => {
    const missing = join(dir.path, "no-such-dir");
    const output = captureOutput();

    const code = await runCli(["sessions", "--data-dir", missing], output, {});

    expect(code).toBe(1);
    expect(output.stderr).toEqual([`macp: data directory ${missing} does not exist`]);
    expect(existsSync(missing)).toBe(false);
  });
});

describe("64-bit values (data directory)", () => {
  const TASK_SESSION = "00000000-0000-4000-8000-0000000000e1";
  const I64_MAX = 2n ** 63n - 1n;

  /** A task session whose client stamps every envelope i64::MAX and asks for no deadline (i64::MAX). */
  async function writeTaskDir(path: string): Promise<void> {
    const store = await FileStore.open({ dir: path, logger: quietLogger });
    const kernel = new Kernel({ store, clock: new ManualClock(T0), modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 0 });
    const envelope = (messageType: string, messageId: string, payload: Uint8Array) => ({
      macpVersion: "1.0",
      mode: ModeId.Task,
      messageType,
      messageId,
      sessionId: TASK_SESSION,
      sender: COORDINATOR,
      timestampUnixMs: I64_MAX,
      payload,
    });
    const start = encodePayload(ModeId.Task, "SessionStart", {
      participants: [COORDINATOR, ALICE],
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 60_000n,
    });
    const request = encodePayload(ModeId.Task, "TaskRequest", { taskId: "t1", title: "Build", deadlineUnixMs: I64_MAX });
    for (const message of [envelope("SessionStart", "s-0", start), envelope("TaskRequest", "s-1", request)]) {
      const outcome = await kernel.send(message, { sender: COORDINATOR });
      if (!outcome.ok) throw new Error(`${message.messageId}: ${outcome.error?.message}`);
    }
    await kernel.close();
  }

  it("prints i64::MAX timestamps, deadlines and deadlines of sessions exactly in every JSON output", async () => {
    const taskDir = await tempDir();
    try {
      await writeTaskDir(taskDir.path);
      const rows = captureOutput();
      const session = captureOutput();
      const history = captureOutput();
      await withSource(async (source) => {
        await sessionsCommand(source, rows, { json: true });
        await sessionCommand(source, session, TASK_SESSION, { json: true });
        await replayCommand(source, history, TASK_SESSION, { json: true, includeInternal: false });
      }, taskDir.path);

      expect(JSON.parse(rows.stdout[0] ?? "")).toMatchObject({ expiresAtUnixMs: "9223372036854775807" });
      expect(JSON.parse(session.stdout[0] ?? "")).toMatchObject({
        expiresAtUnixMs: "9223372036854775807",
        modeState: { task: { deadline_unix_ms: "9223372036854775807" } },
      });
      const records = history.stdout.map((line) => JSON.parse(line) as { timestamp: string; payload_b64: string });
      expect(records.map((record) => record.timestamp)).toEqual(["+292278994-08-17T07:12:55.807Z", "+292278994-08-17T07:12:55.807Z"]);
      const sent = decodePayload(ModeId.Task, "TaskRequest", Buffer.from(records[1]?.payload_b64 ?? "", "base64"));
      expect(sent).toMatchObject({ deadlineUnixMs: I64_MAX });

      const table = captureOutput();
      await withSource((source) => replayCommand(source, table, TASK_SESSION, { json: false, includeInternal: false }), taskDir.path);
      expect(table.stdout[2]).toMatch(/^2\s+\+292278994-08-17T07:12:55\.807Z\s/);
    } finally {
      await taskDir.remove();
    }
  });
});
