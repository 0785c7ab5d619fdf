import { afterEach, describe, expect, it } from "vitest";
import { cpSync, rmSync } from "node:fs";
import { readFile, readdir, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LogEntry } from "@macp/core";
import { FileStore, defaultSync, type SyncFunction } from "../src/index.js";
import { dropCheckpoint, logEntry, recordingLogger } from "./log-entries.js";
import { tempDir } from "./temp-dirs.js";

const SEGMENT_BYTES = 16 * 1024;
const CHECKPOINT = join("index", "checkpoint.idx");

describe("FileStore index checkpoint", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function newDir(): Promise<string> {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    return dir.path;
  }

  async function open(dir: string, sync: SyncFunction = defaultSync) {
    const logger = recordingLogger();
    const store = await FileStore.open({ dir, logger, segmentBytes: SEGMENT_BYTES, sync });
    cleanups.push(() => store.close());
    return { store, logger, opened: logger.infos.find((line) => line.startsWith("opened file store")) ?? "" };
  }

  /** A copy of `dir` as a crash would leave it now (the copy is not locked). */
  function crashCopy(dir: string, name: string): string {
    const copy = `${dir}-${name}`;
    cpSync(dir, copy, { recursive: true });
    rmSync(join(copy, "LOCK"), { force: true });
    cleanups.push(async () => rmSync(copy, { recursive: true, force: true }));
    return copy;
  }

  /** Sessions of 3 entries (~1 KiB) spread over many segments; every 10th stays unfinished. */
  async function populate(store: FileStore, count: number, prefix = "s"): Promise<Map<string, LogEntry[]>> {
    const logs = new Map<string, LogEntry[]>();
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (let seq = 1; seq <= 3; seq++) {
      await Promise.all(
        ids.map((id) => {
          const entry = logEntry(id, seq, { payload: new Uint8Array(300).fill(seq) });
          logs.set(id, [...(logs.get(id) ?? []), entry]);
          return store.append(id, [entry]);
        }),
      );
    }
    await Promise.all(
      ids.filter((_, i) => i % 10 !== 0).map((id) => store.writeSnapshot(id, { logLength: 3, state: `{"id":"${id}"}`, finishedAtUnixMs: 1_000 })),
    );
    return logs;
  }

  /** Everything a reader of the store can see, to compare two opens of the same data. */
  async function contents(store: FileStore): Promise<unknown> {
    const ids = (await store.listSessions()).sort();
    const sessions = [];
    for (const id of ids) sessions.push({ id, log: await store.loadLog(id), after2: await store.loadLogAfter(id, 2), snapshot: await store.loadSnapshot(id) });
    const { logBytes, snapshotBytes, finishedSessions, unfinishedSessions } = await store.usage();
    return {
      sessions,
      unfinished: (await store.listUnfinishedSessions()).sort(),
      finishedBefore: (await store.listFinishedBefore(5_000, 10_000)).sort(),
      usage: { logBytes, snapshotBytes, finishedSessions, unfinishedSessions },
    };
  }

  it("reopens from the checkpoint written at close without scanning the log, and sees exactly what a full scan sees", async () => {
    const dir = await newDir();
    const { store } = await open(dir);
    await populate(store, 300);
    await store.removeSessions(["s-1", "s-2", "s-3"]);
    await store.compacted();
    await store.close();
    const noCheckpoint = crashCopy(dir, "full-scan");
    await dropCheckpoint(noCheckpoint);

    const fromCheckpoint = await open(dir);
    expect(fromCheckpoint.opened).toMatch(/index checkpoint of \d+ bytes; scanned 0 log entries, 0 bytes/);
    expect(fromCheckpoint.logger.warnings).toEqual([]);
    const scanned = await open(noCheckpoint);
    expect(scanned.opened).toContain("no index checkpoint");
    expect(await contents(fromCheckpoint.store)).toEqual(await contents(scanned.store));
    expect((await fromCheckpoint.store.listSessions()).length).toBe(297);
    // The reopened store keeps working: appends, snapshots and removals after the checkpoint.
    await fromCheckpoint.store.append("s-0", [logEntry("s-0", 4)]);
    expect((await fromCheckpoint.store.loadLog("s-0")).map((entry) => entry.seq)).toEqual([1, 2, 3, 4]);
  });

  it("forgets removed sessions' ids at reopen once they outnumber the kept ones, keeping every kept session whole", async () => {
    const dir = await newDir();
    const { store } = await open(dir);
    const logs = await populate(store, 200);
    const kept = [...logs.keys()].filter((_, i) => i % 10 === 0 || i % 10 === 5);
    await store.removeSessions([...logs.keys()].filter((id) => !kept.includes(id)));
    // Snapshot traffic rolls and compacts the snapshot log until the removed sessions' retired
    // records reach its oldest segment and are dropped: only then do they have no record at all.
    for (let round = 0; round < 12; round++) {
      await Promise.all(kept.map((id) => store.writeSnapshot(id, { logLength: 3, state: `{"round":${round},"pad":"${"x".repeat(400)}"}` })));
      await store.compacted();
    }
    await store.close();
    const reference = crashCopy(dir, "reference");
    await dropCheckpoint(reference);
    const expected = await contents((await open(reference)).store);

    const reopened = await open(dir);
    expect(reopened.opened).toMatch(/: 40 sessions \(40 with a snapshot\)/);
    expect(await contents(reopened.store)).toEqual(expected);
    await reopened.store.append("s-new", [logEntry("s-new", 1)]);
    await reopened.store.close();
    const again = await open(dir);
    expect(again.opened).toMatch(/: 41 sessions/);
    expect(await again.store.loadLog("s-new")).toEqual([logEntry("s-new", 1)]);
    expect(await again.store.loadLog("s-10")).toEqual(logs.get("s-10"));
    expect(await again.store.loadSnapshot("s-5")).toEqual({ logLength: 3, state: `{"round":11,"pad":"${"x".repeat(400)}"}` });
    expect(await again.store.loadLog("s-1")).toEqual([]);
  });

  it("recovers what was written after the last checkpoint when the process dies without closing", async () => {
    const dir = await newDir();
    const first = await open(dir);
    const logs = await populate(first.store, 100, "old");
    await first.store.close();

    const { store } = await open(dir);
    const later = await populate(store, 100, "new");
    await store.removeSessions(["old-1", "new-1"]);
    await store.writeSnapshot("old-0", { logLength: 3, state: "{}", finishedAtUnixMs: 2_000 });
    await store.compacted();
    const crashed = crashCopy(dir, "crash");
    const reference = crashCopy(dir, "reference");
    await dropCheckpoint(reference);

    const recovered = await open(crashed);
    expect(recovered.opened).toMatch(/index checkpoint of \d+ bytes; scanned [1-9]\d* log entries/);
    expect(await contents(recovered.store)).toEqual(await contents((await open(reference)).store));
    expect(await recovered.store.loadLog("old-5")).toEqual(logs.get("old-5"));
    expect(await recovered.store.loadLog("new-5")).toEqual(later.get("new-5"));
    expect(await recovered.store.loadLog("new-1")).toEqual([]);
    expect(await recovered.store.loadSnapshot("old-0")).toEqual({ logLength: 3, state: "{}", finishedAtUnixMs: 2_000 });
  });

  it("falls back to a full scan, with a warning, when the checkpoint is damaged or does not describe the log on disk", async () => {
    const dir = await newDir();
    const { store } = await open(dir);
    await populate(store, 200);
    await store.close();
    const reference = crashCopy(dir, "reference");
    await dropCheckpoint(reference);
    const expected = await contents((await open(reference)).store);

    const flipped = crashCopy(dir, "flipped");
    const bytes = await readFile(join(flipped, CHECKPOINT));
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x5a;
    await writeFile(join(flipped, CHECKPOINT), bytes);
    const fromFlipped = await open(flipped);
    expect(fromFlipped.logger.warnings).toEqual([expect.stringContaining("unusable (bad header or checksum); scanning the whole log")]);
    expect(await contents(fromFlipped.store)).toEqual(expected);

    // A sealed segment that is not the one the checkpoint saw (here: cut short).
    const cut = crashCopy(dir, "cut");
    const sealed = join(cut, "wal", "000000000001.wal");
    await truncate(sealed, (await stat(sealed)).size - 7);
    const fromCut = await open(cut);
    expect(fromCut.logger.warnings[0]).toContain("does not match the log (sealed segment 1 changed size); scanning the whole log");
    expect(fromCut.opened).toContain("index checkpoint stale, full scan");
  });

  it("loses nothing live and resurrects nothing removed when the process dies at any point of compactions and checkpoints", async () => {
    const dir = await newDir();
    const crashes: string[] = [];
    let capturing = false;
    const sync: SyncFunction = async (target) => {
      await defaultSync(target);
      if (capturing) crashes.push(crashCopy(dir, `crash-${crashes.length}`));
    };
    const { store } = await open(dir, sync);
    const logs = await populate(store, 120);
    await store.close();
    const reopened = await open(dir, sync);
    const store2 = reopened.store;
    const removed = (await store2.listFinishedBefore(2_000, 1_000)).sort();
    const live = [...logs.keys()].filter((id) => !removed.includes(id)).sort();
    capturing = true;
    await store2.removeSessions(removed);
    await store2.compacted();
    // More traffic after the compaction: the next segments seal and a checkpoint follows.
    const later = await populate(store2, 60, "later");
    await store2.compacted();
    await store2.close();
    capturing = false;
    expect(crashes.length).toBeGreaterThan(5);
    expect((await readdir(join(dir, "wal"))).length).toBeLessThan(10);

    let fromCheckpoint = 0;
    for (const copy of crashes) {
      const recovered = await open(copy);
      if (recovered.opened.includes("index checkpoint of")) fromCheckpoint++;
      const listed = new Set(await recovered.store.listSessions());
      for (const id of live) {
        expect(listed.has(id)).toBe(true);
        expect(await recovered.store.loadLog(id)).toEqual(logs.get(id));
      }
      for (const id of removed) {
        const log = await recovered.store.loadLog(id);
        if (log.length > 0) expect(log).toEqual(logs.get(id));
      }
      for (const [id, log] of later) {
        const found = await recovered.store.loadLog(id);
        // Every record of a later session is either durable (and whole) or not yet written.
        expect(log.slice(0, found.length)).toEqual(found);
      }
      await recovered.store.close();
    }
    expect(fromCheckpoint).toBeGreaterThan(crashes.length / 2);
    const last = await open(crashes[crashes.length - 1] ?? "");
    for (const id of removed) {
      expect(await last.store.loadLog(id)).toEqual([]);
      expect(await last.store.loadSnapshot(id)).toBeUndefined();
    }
  });
});
