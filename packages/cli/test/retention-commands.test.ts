import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileStore } from "@macp/storage";
import { runCli } from "@macp/cli";
import { captureOutput, quietLogger, tempDir } from "./support.js";

const DAY = 86_400_000;

/** A data dir with two sessions finished 40 days ago, one finished yesterday and one open. */
async function agedDataDir(path: string): Promise<void> {
  const store = await FileStore.open({ dir: path, logger: quietLogger });
  const entry = (sessionId: string, seq: number) => ({
    kind: "incoming" as const,
    seq,
    sessionId,
    mode: "macp.mode.decision.v1",
    messageType: seq === 1 ? "SessionStart" : "Proposal",
    messageId: `m-${seq}`,
    sender: "agent://alice",
    macpVersion: "1.0",
    timestampUnixMs: 0n,
    receivedAtUnixMs: Date.now() - 41 * DAY,
    payload: new Uint8Array([seq]),
  });
  const finished = { old1: Date.now() - 40 * DAY, old2: Date.now() - 40 * DAY, recent: Date.now() - DAY };
  for (const [id, finishedAtUnixMs] of Object.entries(finished)) {
    await store.append(id, [entry(id, 1), entry(id, 2)]);
    await store.writeSnapshot(id, { logLength: 2, state: `{"id":"${id}"}`, finishedAtUnixMs });
  }
  await store.append("open", [entry("open", 1)]);
  await store.close();
}

describe("macp gc and macp archive (data directory)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setUp(): Promise<{ data: string; archive: string }> {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await agedDataDir(join(dir.path, "data"));
    return { data: join(dir.path, "data"), archive: join(dir.path, "archive") };
  }

  const storedIds = async (data: string): Promise<string[]> => {
    const store = await FileStore.open({ dir: data, logger: quietLogger });
    try {
      return (await store.listSessions()).sort();
    } finally {
      await store.close();
    }
  };

  it("gc is a dry run by default: it counts what --apply would remove and removes nothing", async () => {
    const { data } = await setUp();
    const output = captureOutput();

    expect(await runCli(["gc", "--data-dir", data], output, {})).toBe(0);

    expect(output.stdout[0]).toMatch(/^dry run: 2 session\(s\) finished more than 2592000 s ago would be removed/);
    expect(await storedIds(data)).toEqual(["old1", "old2", "open", "recent"]);
  });

  it("archive writes the old sessions as JSON lines and keeps them; gc --apply archives and removes them", async () => {
    const { data, archive } = await setUp();
    const archived = captureOutput();
    expect(await runCli(["archive", "--data-dir", data, "--archive-dir", archive, "--json"], archived, {})).toBe(0);
    const [file] = await readdir(archive);
    const lines = (await readFile(join(archive, file ?? ""), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { session_id: string; log: unknown[] });
    expect(lines.map((line) => line.session_id).sort()).toEqual(["old1", "old2"]);
    expect(lines[0]?.log).toHaveLength(2);
    expect(JSON.parse(archived.stdout[0] ?? "")).toMatchObject({ sessions: 2 });
    expect(await storedIds(data)).toEqual(["old1", "old2", "open", "recent"]);

    const output = captureOutput();
    expect(await runCli(["gc", "--data-dir", data, "--older-than", "30d", "--apply", "--json"], output, {})).toBe(0);
    expect(JSON.parse(output.stdout[0] ?? "")).toMatchObject({ dry_run: false, sessions: 2 });
    expect(await storedIds(data)).toEqual(["open", "recent"]);
    const again = captureOutput();
    expect(await runCli(["session", "old1", "--data-dir", data], again, {})).toBe(1);
  });

  it("refuses retention options elsewhere and archive without a directory, with usage errors", async () => {
    const output = captureOutput();
    expect(await runCli(["sessions", "--apply"], output, {})).toBe(2);
    expect(await runCli(["archive", "--data-dir", "x"], output, {})).toBe(2);
    expect(await runCli(["gc", "--older-than", "soon"], output, {})).toBe(2);
    expect(output.stderr.join("\n")).toMatch(/--older-than must be/);
  });
});
