import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeSessionState } from "@macp/core/internal";
import { ModeRegistry } from "@macp/modes";
import { rebuildSession } from "@macp/replay";
import { FileStore } from "@macp/storage";
import { SESSIONS, quietLogger, tempDir, writeDataDir } from "./support.js";

/** The built `macp` binary (package.json `bin`); `pnpm test` builds before running vitest. */
const BIN = join(import.meta.dirname, "../dist/main.js");

const run = promisify(execFile);

/** Runs the binary like a shell would, with a clean environment. */
async function macp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx -y pnpm@10 run build)`);
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  dir = await tempDir();
  await writeDataDir(dir.path);
});
afterAll(() => dir.remove());

describe("the macp binary", () => {
  it("lists sessions of a data directory as JSON lines", async () => {
    const result = await macp("sessions", "--data-dir", dir.path, "--json");

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const ids = result.stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { sessionId: string }).sessionId);
    expect(ids).toEqual(Object.values(SESSIONS).sort());
  });

  it("exits 0 from verify on a consistent data directory and 1 once a snapshot disagrees with its log", async () => {
    const before = await macp("verify", "--data-dir", dir.path);
    const store = await FileStore.open({ dir: dir.path, logger: quietLogger });
    const { state } = await rebuildSession(store, new ModeRegistry(), SESSIONS.resolved);
    const tampered = { ...state, record: { ...state.record, status: "Open" as const } };
    await store.writeSnapshot(SESSIONS.resolved, { logLength: state.record.logLength, state: serializeSessionState(tampered) });
    await store.close();

    const after = await macp("verify", "--data-dir", dir.path);

    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/4 session\(s\) verified, 0 mismatch\(es\)/);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(`MISMATCH  ${SESSIONS.resolved}  snapshot plus tail differs from full replay`);
  });

  it("exits 2 on a usage error", async () => {
    const result = await macp("replay");

    expect(result.code).toBe(2);
    expect(result.stderr).toBe("macp: replay takes one session id\nRun 'macp --help' for usage.\n");
  });
});
