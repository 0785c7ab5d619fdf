import { afterEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, stat, truncate, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import fc from "fast-check";
import { FileStore, type FileStoreOptions, type SyncFunction } from "../src/index.js";
import { sealFrame } from "../src/file/frame.js";
import { encodeSnapshotFrame } from "../src/file/record-codec.js";
import { dropCheckpoint, logEntry, recordingLogger } from "./log-entries.js";
import { tempDir } from "./temp-dirs.js";

const noSync: SyncFunction = async () => undefined;
const SNAPSHOT_LOG = "snapshot-log";
const FIRST_SNAPSHOT_SEGMENT = join(SNAPSHOT_LOG, "000000000001.snaps");

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x5a;
  await writeFile(path, bytes);
}

/** Resolves once `check` holds, polling between event-loop turns. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A snapshot file exactly as earlier versions wrote it: `<dir>/snapshots/<hex id>.snap` (or `h-<sha256>.snap`), one unsalted frame. */
async function writeLegacySnapshotFile(dir: string, sessionId: string, logLength: number, state: string): Promise<string> {
  const hex = Buffer.from(sessionId, "utf8").toString("hex");
  const name = hex.length <= 200 ? `${hex}.snap` : `h-${createHash("sha256").update(sessionId, "utf8").digest("hex")}.snap`;
  const frame = encodeSnapshotFrame(sessionId, { logLength, state });
  sealFrame(frame, 0);
  await mkdir(join(dir, "snapshots"), { recursive: true });
  await writeFile(join(dir, "snapshots", name), frame);
  return name;
}

describe("FileStore snapshots", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openIn(dir: string, options: Partial<FileStoreOptions> = {}) {
    const logger = recordingLogger();
    const store = await FileStore.open({ dir, logger, sync: noSync, ...options });
    cleanups.push(() => store.close());
    return { store, logger };
  }

  async function newDir(): Promise<string> {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    return dir.path;
  }

  it("keeps snapshots of thousands of sessions in a few segment files, not a file per session", async () => {
    const dir = await newDir();
    const segmentBytes = 64 * 1024;
    const { store } = await openIn(dir, { segmentBytes });
    const sessions = Array.from({ length: 3000 }, (_, i) => `many-${i}`);
    for (let start = 0; start < sessions.length; start += 500) {
      const batch = sessions.slice(start, start + 500);
      await Promise.all(batch.map((id) => store.append(id, [logEntry(id, 1)])));
      await Promise.all(batch.map((id, i) => store.writeSnapshot(id, { logLength: 1, state: JSON.stringify({ id, i }) })));
    }
    await store.saveRegistry("modes", "[]");
    await store.close();

    const files = await filesUnder(dir);
    const walSegments = files.filter((name) => /^wal\/\d{12}\.wal$/.test(name));
    const snapshotSegments = files.filter((name) => /^snapshot-log\/\d{12}\.snaps$/.test(name));
    // Besides segments, only the registry, the index checkpoint and the data directory's lock (while open).
    expect(files.filter((name) => !walSegments.includes(name) && !snapshotSegments.includes(name)).sort()).toEqual(["index/checkpoint.idx", "registries/modes.reg"]);
    const snapshotBytes = (await Promise.all(snapshotSegments.map((name) => stat(join(dir, name))))).reduce((sum, s) => sum + s.size, 0);
    expect(snapshotSegments.length).toBeLessThanOrEqual(Math.ceil(snapshotBytes / segmentBytes) + 1);
    expect(files.length).toBeLessThan(sessions.length / 20);

    const reopened = await openIn(dir, { segmentBytes });
    expect((await reopened.store.listSessions()).length).toBe(sessions.length);
    for (const [i, id] of sessions.entries()) {
      expect(await reopened.store.loadSnapshot(id)).toEqual({ logLength: 1, state: JSON.stringify({ id, i: i % 500 }) });
    }
  });

  it("compacts replaced snapshots: disk use stays near the live snapshots while sessions keep overwriting theirs", async () => {
    const dir = await newDir();
    const segmentBytes = 8 * 1024;
    const { store } = await openIn(dir, { segmentBytes });
    const sessions = Array.from({ length: 20 }, (_, i) => `compact-${i}`);
    const state = (id: string, version: number): string => JSON.stringify({ id, version, pad: "x".repeat(480) });
    for (let version = 0; version < 200; version++) {
      await Promise.all(sessions.map((id) => store.writeSnapshot(id, { logLength: version, state: state(id, version) })));
    }
    const snapshotLogBytes = async (): Promise<number> => {
      const names = await readdir(join(dir, SNAPSHOT_LOG));
      // Compaction may delete a segment between the listing and its stat.
      const sizes = await Promise.all(names.map((name) => stat(join(dir, SNAPSHOT_LOG, name)).then((s) => s.size, () => 0)));
      return sizes.reduce((sum, size) => sum + size, 0);
    };
    // 20 sessions × 200 versions × ~530 bytes were written (over 2 MB); about 11 kB are live.
    const liveBytes = sessions.length * (12 + Buffer.byteLength(encodeSnapshotFrame("compact-10", { logLength: 199, state: state("compact-10", 199) })));
    await eventually(async () => (await snapshotLogBytes()) <= 2 * liveBytes + 2 * segmentBytes);
    for (const id of sessions) expect(await store.loadSnapshot(id)).toEqual({ logLength: 199, state: state(id, 199) });
    await store.close();

    const reopened = await openIn(dir, { segmentBytes });
    expect(reopened.logger.warnings).toEqual([]);
    for (const id of sessions) expect(await reopened.store.loadSnapshot(id)).toEqual({ logLength: 199, state: state(id, 199) });
  });

  it("shares one fdatasync among concurrent snapshot writes of different sessions", async () => {
    let snapshotSyncs = 0;
    const sync: SyncFunction = async (target) => {
      if (target.kind === "wal" && target.path.includes(SNAPSHOT_LOG)) snapshotSyncs++;
    };
    const { store } = await openIn(await newDir(), { sync });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.writeSnapshot(`d-${i}`, { logLength: i, state: "{}" })));
    expect(snapshotSyncs).toBe(1);
    for (let i = 0; i < 30; i++) expect(await store.loadSnapshot(`d-${i}`)).toEqual({ logLength: i, state: "{}" });
  });

  it("falls back to the previous snapshot when the latest one was torn by a crash, and keeps writing", async () => {
    const dir = await newDir();
    const { store } = await openIn(dir);
    await store.writeSnapshot("s", { logLength: 1, state: '{"v":1}' });
    await store.writeSnapshot("t", { logLength: 1, state: '{"t":1}' });
    const beforeLast = (await stat(join(dir, FIRST_SNAPSHOT_SEGMENT))).size;
    await store.writeSnapshot("s", { logLength: 2, state: '{"v":2}' });
    const end = (await stat(join(dir, FIRST_SNAPSHOT_SEGMENT))).size;
    await store.close();
    await dropCheckpoint(dir);
    await truncate(join(dir, FIRST_SNAPSHOT_SEGMENT), beforeLast + Math.floor((end - beforeLast) / 2));

    const reopened = await openIn(dir);
    expect(reopened.logger.warnings).toEqual([expect.stringContaining("torn or corrupt tail")]);
    expect(await reopened.store.loadSnapshot("s")).toEqual({ logLength: 1, state: '{"v":1}' });
    expect(await reopened.store.loadSnapshot("t")).toEqual({ logLength: 1, state: '{"t":1}' });
    await reopened.store.writeSnapshot("s", { logLength: 3, state: '{"v":3}' });
    await reopened.store.close();

    const clean = await openIn(dir);
    expect(clean.logger.warnings).toEqual([]);
    expect(await clean.store.loadSnapshot("s")).toEqual({ logLength: 3, state: '{"v":3}' });
  });

  it("after a cut or a flipped byte anywhere, every session gets its latest intact snapshot or none (property)", async () => {
    const dir = await newDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ session: fc.integer({ min: 0, max: 3 }), bytes: fc.integer({ min: 0, max: 200 }) }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.constantFrom("truncate", "flip"),
        async (writes, where, damage) => {
          const runDir = join(dir, String(run++));
          const store = await FileStore.open({ dir: runDir, sync: noSync, logger: recordingLogger() });
          const ends: number[] = [];
          for (const [i, write] of writes.entries()) {
            await store.writeSnapshot(`s${write.session}`, { logLength: i, state: "v".repeat(write.bytes) });
            ends.push((await stat(join(runDir, FIRST_SNAPSHOT_SEGMENT))).size);
          }
          await store.close();
          await dropCheckpoint(runDir);
          const start = 16;
          const at = start + Math.floor(where * ((ends[ends.length - 1] ?? start) - start));
          if (damage === "truncate") await truncate(join(runDir, FIRST_SNAPSHOT_SEGMENT), at);
          else await flipByte(join(runDir, FIRST_SNAPSHOT_SEGMENT), at);

          const damaged = ends.findIndex((recordEnd) => at < recordEnd);
          const survives = (i: number): boolean => (damage === "truncate" ? i < damaged : i !== damaged);
          const reopened = await FileStore.open({ dir: runDir, sync: noSync, logger: recordingLogger() });
          for (let s = 0; s < 4; s++) {
            const latest = writes.flatMap((write, i) => (write.session === s && survives(i) ? [i] : [])).pop();
            const expected = latest === undefined ? undefined : { logLength: latest, state: "v".repeat(writes[latest]?.bytes ?? 0) };
            expect(await reopened.loadSnapshot(`s${s}`)).toEqual(expected);
          }
          await reopened.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("drops a snapshot record damaged at rest with a warning, so its session replays the log", async () => {
    const dir = await newDir();
    const { store, logger } = await openIn(dir);
    await store.writeSnapshot("c", { logLength: 1, state: '{"x":1}' });
    await store.writeSnapshot("d", { logLength: 2, state: '{"y":2}' });
    const path = join(dir, FIRST_SNAPSHOT_SEGMENT);
    await flipByte(path, (await stat(path)).size - 2);
    expect(await store.loadSnapshot("d")).toBeUndefined();
    expect(logger.warnings).toEqual([expect.stringContaining("corrupt")]);
    expect(await store.loadSnapshot("c")).toEqual({ logLength: 1, state: '{"x":1}' });
    await store.writeSnapshot("d", { logLength: 3, state: '{"y":3}' });
    expect(await store.loadSnapshot("d")).toEqual({ logLength: 3, state: '{"y":3}' });
  });

  it("sets aside a snapshot segment with a damaged header and opens without its snapshots", async () => {
    const dir = await newDir();
    const { store } = await openIn(dir, { segmentBytes: 256 });
    for (let i = 0; i < 6; i++) await store.writeSnapshot(`h-${i}`, { logLength: i, state: "y".repeat(200) });
    await store.append("h-0", [logEntry("h-0", 1)]);
    await store.close();
    await dropCheckpoint(dir);
    await flipByte(join(dir, FIRST_SNAPSHOT_SEGMENT), 2);

    const reopened = await openIn(dir, { segmentBytes: 256 });
    expect(reopened.logger.warnings).toEqual([expect.stringContaining("moved aside")]);
    expect(await reopened.store.loadSnapshot("h-0")).toBeUndefined();
    expect(await reopened.store.loadSnapshot("h-5")).toEqual({ logLength: 5, state: "y".repeat(200) });
    expect(await reopened.store.loadLog("h-0")).toEqual([logEntry("h-0", 1)]);
    expect(await readdir(join(dir, SNAPSHOT_LOG))).toContain("000000000001.snaps.damaged");
  });

  it("stores snapshots of very long session ids", async () => {
    const { store } = await openIn(await newDir());
    const longId = "L".repeat(500);
    await store.writeSnapshot(longId, { logLength: 2, state: '{"long":true}' });
    expect(await store.loadSnapshot(longId)).toEqual({ logLength: 2, state: '{"long":true}' });
    expect(await store.listSessions()).toEqual([longId]);
  });

  describe("data directories of earlier versions (one snapshot file per session)", () => {
    it("imports their snapshot files once, removes them, and never writes a snapshot file again", async () => {
      const dir = await newDir();
      const first = await openIn(dir);
      await first.store.append("logged", [logEntry("logged", 1), logEntry("logged", 2)]);
      await first.store.close();
      const longId = "🚀".repeat(60);
      await writeLegacySnapshotFile(dir, "logged", 2, '{"old":"logged"}');
      await writeLegacySnapshotFile(dir, "only-snapshot", 0, '{"old":"only"}');
      await writeLegacySnapshotFile(dir, longId, 0, '{"old":"long"}');
      const damaged = await writeLegacySnapshotFile(dir, "damaged", 0, '{"old":"damaged"}');
      await flipByte(join(dir, "snapshots", damaged), 20);
      await writeFile(join(dir, "snapshots", `${Buffer.from("half").toString("hex")}.snap.tmp`), "half a snapshot");

      const { store, logger } = await openIn(dir);
      expect(logger.warnings).toEqual([expect.stringContaining(`dropped 1 damaged snapshot file(s) of an earlier version: ${damaged}`)]);
      expect(logger.infos).toContainEqual(expect.stringContaining("imported 3 snapshot file(s)"));
      expect(await readdir(dir)).not.toContain("snapshots");
      expect(await store.loadSnapshot("logged")).toEqual({ logLength: 2, state: '{"old":"logged"}' });
      expect(await store.loadSnapshot("only-snapshot")).toEqual({ logLength: 0, state: '{"old":"only"}' });
      expect(await store.loadSnapshot(longId)).toEqual({ logLength: 0, state: '{"old":"long"}' });
      expect(await store.loadSnapshot("damaged")).toBeUndefined();
      expect((await store.listSessions()).sort()).toEqual(["logged", "only-snapshot", longId].sort());
      await store.writeSnapshot("logged", { logLength: 2, state: '{"new":true}' });
      await store.writeSnapshot("fresh", { logLength: 0, state: "{}" });
      await store.close();

      const files = await filesUnder(dir);
      expect(files.filter((name) => !/^(wal\/\d{12}\.wal|snapshot-log\/\d{12}\.snaps|index\/checkpoint\.idx|LOCK)$/.test(name))).toEqual([]);
      const again = await openIn(dir);
      expect(again.logger.warnings).toEqual([]);
      expect(again.logger.infos.filter((line) => line.includes("imported"))).toEqual([]);
      expect(await again.store.loadSnapshot("logged")).toEqual({ logLength: 2, state: '{"new":true}' });
      expect(await again.store.loadSnapshot("only-snapshot")).toEqual({ logLength: 0, state: '{"old":"only"}' });
      expect(await again.store.loadSnapshot("fresh")).toEqual({ logLength: 0, state: "{}" });
    });

    it("finishes an import interrupted before the old files were removed without duplicating or reverting snapshots", async () => {
      const dir = await newDir();
      await writeLegacySnapshotFile(dir, "a", 1, '{"a":1}');
      const first = await openIn(dir);
      await first.store.close();
      // As if the import had crashed after appending but before deleting the old directory.
      await writeLegacySnapshotFile(dir, "a", 1, '{"a":1}');
      await writeLegacySnapshotFile(dir, "b", 1, '{"b":1}');

      const { store, logger } = await openIn(dir);
      expect(logger.infos).toContainEqual(expect.stringContaining("imported 1 snapshot file(s)"));
      expect(await store.loadSnapshot("a")).toEqual({ logLength: 1, state: '{"a":1}' });
      expect(await store.loadSnapshot("b")).toEqual({ logLength: 1, state: '{"b":1}' });
    });
  });
});
