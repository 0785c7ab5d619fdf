import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { base64ToBytes, deserializeSessionState, replayLog, serializeSessionState } from "@macp/core/internal";
import type { LogEntry, LogEntryKind } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { int64FromJson } from "@macp/protocol";
import { hashSessionState, recoverSessions, summarizeSession } from "@macp/replay";
import type { SessionSummary } from "@macp/replay";
import { openFileStore, tempDir } from "./support.js";

/** Recorded by scripts/record-golden.mjs; see the README before changing any of these files. */
const GOLDEN_DIR = join(import.meta.dirname, "../fixtures/golden");

interface GoldenHistory {
  readonly name: string;
  readonly sessionId: string;
  readonly entries: LogEntry[];
  readonly finalStateHash: string;
  readonly finalState: SessionSummary;
}

interface StoredEntry extends Omit<LogEntry, "payload" | "timestampUnixMs"> {
  readonly payload: string;
  /** `int64ToJson` form. */
  readonly timestampUnixMs: number | string;
}

const KINDS: readonly LogEntryKind[] = ["incoming", "internal", "checkpoint"];

function loadGolden(file: string): GoldenHistory {
  const raw = JSON.parse(readFileSync(join(GOLDEN_DIR, file), "utf8")) as Omit<GoldenHistory, "entries"> & {
    entries: StoredEntry[];
  };
  const entries = raw.entries.map((entry, i) => {
    const timestampUnixMs = int64FromJson(entry.timestampUnixMs);
    if (!KINDS.includes(entry.kind) || !Number.isInteger(entry.seq) || typeof entry.payload !== "string" || timestampUnixMs === undefined) {
      throw new Error(`${file}: entry ${i} is malformed`);
    }
    return { ...entry, timestampUnixMs, payload: base64ToBytes(entry.payload) };
  });
  return { ...raw, entries };
}

const FILES = readdirSync(GOLDEN_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort();
const GOLDEN = FILES.map(loadGolden);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("golden histories", () => {
  it("cover the recorded scenarios", () => {
    expect(GOLDEN.map((golden) => golden.name)).toEqual([
      "decision-registered-policy",
      "decision-suspend-resume",
      "decision-vote-commitment",
      "multi-round-convergence",
      "proposal-cancelled",
      "quorum-approval",
      "task-expired",
    ]);
    expect(new Set(GOLDEN.map((golden) => golden.finalState.status))).toEqual(
      new Set(["Resolved", "Cancelled", "Expired"]),
    );
  });

  it.each(GOLDEN.map((golden) => [golden.name, golden] as const))(
    "%s replays to its recorded final state",
    (_name, golden) => {
      const state = replayLog(new ModeRegistry(), golden.entries);

      expect(summarizeSession(state)).toEqual(golden.finalState);
      expect(hashSessionState(state)).toBe(golden.finalStateHash);
    },
  );

  it.each(GOLDEN.map((golden) => [golden.name, golden] as const))(
    "%s replays to the same state from a snapshot taken after any append",
    (_name, golden) => {
      const modes = new ModeRegistry();
      // SessionStart and its PolicyBinding are one append, so no snapshot ever falls between them.
      expect(golden.entries[1]?.messageType).toBe("PolicyBinding");
      for (let length = 2; length <= golden.entries.length; length++) {
        const snapshot = serializeSessionState(replayLog(modes, golden.entries.slice(0, length)));
        const resumed = replayLog(modes, golden.entries, deserializeSessionState(snapshot));
        expect(hashSessionState(resumed), `snapshot after ${length} records`).toBe(golden.finalStateHash);
      }
    },
  );

  it("all survive a round trip through the file backend and crash recovery", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const writer = await openFileStore(dir.path);
    for (const golden of GOLDEN) {
      for (const entry of golden.entries) await writer.append(golden.sessionId, [entry]);
    }
    await writer.close();

    const store = await openFileStore(dir.path);
    cleanups.push(() => store.close());
    const report = await recoverSessions(store, new ModeRegistry(), { strict: true });

    const hashes = new Map(report.recovered.map((state) => [state.record.sessionId, hashSessionState(state)]));
    expect(hashes).toEqual(new Map(GOLDEN.map((golden) => [golden.sessionId, golden.finalStateHash])));
  });
});
