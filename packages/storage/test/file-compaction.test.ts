import { afterEach, describe, expect, it } from "vitest";
import { cpSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { LogEntry } from "@macp/core";
import { FileStore, defaultSync, type SyncFunction } from "../src/index.js";
import { logEntry, recordingLogger } from "./log-entries.js";
import { tempDir } from "./temp-dirs.js";

const SEGMENT_BYTES = 16 * 1024;

describe("FileStore log compaction", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function newDir(): Promise<string> {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    return dir.path;
  }

  async function open(dir: string, sync: SyncFunction = defaultSync): Promise<FileStore> {
    const store = await FileStore.open({ dir, logger: recordingLogger(), segmentBytes: SEGMENT_BYTES, sync });
    cleanups.push(() => store.close());
    return store;
  }

  const walSegments = async (dir: string): Promise<string[]> => (await readdir(join(dir, "wal"))).filter((name) => name.endsWith(".wal")).sort();

  /** Sessions of 3 entries each (~1 KiB), interleaved so every segment holds many sessions; every 10th stays open. */
  async function populate(store: FileStore, count: number): Promise<{ finished: string[]; open: string[]; logs: Map<string, LogEntry[]> }> {
    const logs = new Map<string, LogEntry[]>();
    const ids = Array.from({ length: count }, (_, i) => `s-${i}`);
    for (let seq = 1; seq <= 3; seq++) {
      await Promise.all(
        ids.map((id) => {
          const entry = logEntry(id, seq, { payload: new Uint8Array(300).fill(seq) });
          logs.set(id, [...(logs.get(id) ?? []), entry]);
          return store.append(id, [entry]);
        }),
      );
    }
    const open = ids.filter((_, i) => i % 10 === 0);
    const finished = ids.filter((_, i) => i % 10 !== 0);
    for (const id of finished) await store.writeSnapshot(id, { logLength: 3, state: `{"id":"${id}"}`, finishedAtUnixMs: 1_000 });
    return { finished, open, logs };
  }

  it("deletes segments whose sessions were all removed and copies the few live ones forward, keeping their logs", async () => {
    const dir = await newDir();
    const store = await open(dir);
    const { finished, open: live, logs } = await populate(store, 200);
    const segmentsBefore = await walSegments(dir);
    expect(segmentsBefore.length).toBeGreaterThan(2);
    const bytesBefore = (await store.usage()).logBytes;

    await store.removeSessions(await store.listFinishedBefore(2_000, 1_000));
    const report = await store.compacted();

    expect(report?.segmentsDeleted).toBeGreaterThan(0);
    expect(report?.sessionsCopied).toBeGreaterThan(0);
    const usage = await store.usage();
    expect(usage.logBytes).toBeLessThan(bytesBefore / 3);
    expect(usage.lastCompactionUnixMs).toBeDefined();
    expect((await walSegments(dir)).length).toBeLessThan(segmentsBefore.length);
    for (const id of live) expect(await store.loadLog(id)).toEqual(logs.get(id));
    // Appends to a copied session keep their order.
    const next = logEntry(live[0] ?? "", 4);
    await store.append(live[0] ?? "", [next]);
    await store.close();

    const reopened = await open(dir);
    expect((await reopened.listSessions()).sort()).toEqual([...live].sort());
    for (const id of live.slice(1)) expect(await reopened.loadLog(id)).toEqual(logs.get(id));
    expect(await reopened.loadLog(live[0] ?? "")).toEqual([...(logs.get(live[0] ?? "") ?? []), next]);
    for (const id of finished.slice(0, 20)) expect(await reopened.loadLog(id)).toEqual([]);
  });

  it("loses nothing live and resurrects nothing removed when the process dies at any point of a compaction", async () => {
    const dir = await newDir();
    const crashes: string[] = [];
    let capturing = false;
    // Every sync of a compaction is a point where the process could die: copy the directory as
    // it is on disk at that instant (written bytes included), as a crash would leave it.
    const sync: SyncFunction = async (target) => {
      await defaultSync(target);
      if (!capturing) return;
      const copy = `${dir}-crash-${crashes.length}`;
      cpSync(dir, copy, { recursive: true });
      rmSync(join(copy, "LOCK"), { force: true });
      crashes.push(copy);
      cleanups.push(async () => rmSync(copy, { recursive: true, force: true }));
    };
    const store = await open(dir, sync);
    const { finished, open: live, logs } = await populate(store, 120);
    const removed = await store.listFinishedBefore(2_000, 1_000);
    expect(removed.sort()).toEqual([...finished].sort());
    capturing = true;
    await store.removeSessions(removed);
    await store.compacted();
    capturing = false;
    expect(crashes.length).toBeGreaterThan(3);

    for (const copy of crashes) {
      const recovered = await open(copy);
      const listed = new Set(await recovered.listSessions());
      for (const id of live) {
        expect(listed.has(id)).toBe(true);
        expect(await recovered.loadLog(id)).toEqual(logs.get(id));
      }
      // Each crash point is after the removal's own records were synced or during them: a
      // removed session is either wholly there (removal not yet durable) or wholly gone.
      for (const id of removed) {
        const log = await recovered.loadLog(id);
        if (log.length > 0) expect(log).toEqual(logs.get(id));
      }
      await recovered.close();
    }
    // Once the removal was durable (the last crash points), no removed session comes back.
    const last = await open(crashes[crashes.length - 1] ?? "");
    for (const id of removed) {
      expect(await last.loadLog(id)).toEqual([]);
      expect(await last.loadSnapshot(id)).toBeUndefined();
    }
    expect((await last.listSessions()).sort()).toEqual([...live].sort());
  });
});
