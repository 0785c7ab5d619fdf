import { afterEach, describe, expect, it } from "vitest";
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { MacpError } from "@macp/protocol";
import { FileStore, type FileStoreOptions, type SyncFunction } from "../src/index.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, readSegmentHeader, sealFrame } from "../src/file/frame.js";
import { dropCheckpoint, logEntry, recordingLogger } from "./log-entries.js";
import { describeSessionStoreContract } from "./session-store-contract.js";
import { tempDir } from "./temp-dirs.js";

describeSessionStoreContract("FileStore", {
  durable: true,
  async createBackend() {
    const dir = await tempDir();
    return { open: () => FileStore.open({ dir: dir.path, logger: recordingLogger() }), dispose: dir.remove };
  },
});

const realSync: SyncFunction = (target) => (target.kind === "directory" ? target.handle.sync() : target.handle.datasync());
const noSync: SyncFunction = async () => undefined;
const FIRST_SEGMENT = join("wal", "000000000001.wal");

describe("FileStore", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openIn(dir: string, options: Partial<FileStoreOptions> = {}) {
    const logger = recordingLogger();
    const store = await FileStore.open({ dir, logger, ...options });
    cleanups.push(() => store.close());
    return { store, logger };
  }

  async function newDir(): Promise<string> {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    return dir.path;
  }

  /** Appends one entry per call and returns the segment size after each append. */
  async function appendAll(store: FileStore, dir: string, ids: readonly string[]): Promise<number[]> {
    const ends: number[] = [];
    for (const [i, id] of ids.entries()) {
      await store.append(id, [logEntry(id, i + 1, { payload: new Uint8Array(40).fill(i) })]);
      ends.push((await stat(join(dir, FIRST_SEGMENT))).size);
    }
    return ends;
  }

  async function flipByte(path: string, offset: number): Promise<void> {
    const bytes = await readFile(path);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x5a;
    await writeFile(path, bytes);
  }

  describe("format", () => {
    it("reads append records written before int64 timestamps (f64 timestamps, record type 1)", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      const entry = logEntry("s", 1, { timestampUnixMs: 1_700_000_000_123n });
      await store.append("s", [entry]);
      await store.close();

      // Rewrite the one append record as the previous format wrote it.
      const path = join(dir, FIRST_SEGMENT);
      const bytes = await readFile(path);
      const salt = readSegmentHeader(bytes) ?? 0;
      const body = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES;
      expect(bytes[body]).toBe(4);
      bytes[body] = 1;
      // type, session id "s" (length 1 + 1 byte), entry count, kind, seq
      const timestampAt = body + 1 + 2 + 1 + 1 + 4;
      expect(bytes.readBigInt64LE(timestampAt)).toBe(1_700_000_000_123n);
      bytes.writeDoubleLE(1_700_000_000_123, timestampAt);
      const frameLength = FRAME_HEADER_BYTES + bytes.readUInt32LE(SEGMENT_HEADER_BYTES);
      sealFrame(bytes.subarray(SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES + frameLength), salt);
      await writeFile(path, bytes);

      const reopened = await openIn(dir);
      expect(await reopened.store.loadLog("s")).toEqual([entry]);
      expect(reopened.logger.warnings).toEqual([]);
    });
  });

  describe("recovery at open", () => {
    it("cuts a torn last record back to the last good record, warns, and keeps appending", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      const ends = await appendAll(store, dir, ["a", "b", "a", "b", "a"]);
      await store.close();
      await dropCheckpoint(dir);
      const lastStart = ends[3] ?? 0;
      await truncate(join(dir, FIRST_SEGMENT), lastStart + Math.floor(((ends[4] ?? 0) - lastStart) / 2));

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("torn or corrupt tail")]);
      expect((await stat(join(dir, FIRST_SEGMENT))).size).toBe(lastStart);
      expect((await reopened.store.loadLog("a")).map((entry) => entry.seq)).toEqual([1, 3]);
      expect((await reopened.store.loadLog("b")).map((entry) => entry.seq)).toEqual([2, 4]);
      await reopened.store.append("a", [logEntry("a", 6)]);
      await reopened.store.close();

      const clean = await openIn(dir);
      expect(clean.logger.warnings).toEqual([]);
      expect((await clean.store.loadLog("a")).map((entry) => entry.seq)).toEqual([1, 3, 6]);
    });

    it("cuts a corrupt last record (one flipped byte) back to the last good record", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      const ends = await appendAll(store, dir, ["a", "a", "a"]);
      await store.close();
      await dropCheckpoint(dir);
      await flipByte(join(dir, FIRST_SEGMENT), (ends[2] ?? 0) - 5);

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("torn or corrupt tail")]);
      expect(await reopened.store.loadLog("a")).toEqual([
        logEntry("a", 1, { payload: new Uint8Array(40).fill(0) }),
        logEntry("a", 2, { payload: new Uint8Array(40).fill(1) }),
      ]);
      await reopened.store.append("a", [logEntry("a", 3)]);
      await reopened.store.close();
      const clean = await openIn(dir);
      expect(clean.logger.warnings).toEqual([]);
      expect((await clean.store.loadLog("a")).map((entry) => entry.seq)).toEqual([1, 2, 3]);
    });

    it("cuts zero bytes a crash left after the last record", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      await appendAll(store, dir, ["z", "z"]);
      await store.close();
      await dropCheckpoint(dir);
      const path = join(dir, FIRST_SEGMENT);
      await writeFile(path, Buffer.concat([await readFile(path), Buffer.alloc(4096)]));

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("torn or corrupt tail")]);
      expect((await reopened.store.loadLog("z")).map((entry) => entry.seq)).toEqual([1, 2]);
    });

    it("skips a corrupt record in the middle of the log and keeps every later record", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      const ends = await appendAll(store, dir, ["m", "m", "m", "m"]);
      await store.close();
      await dropCheckpoint(dir);
      await flipByte(join(dir, FIRST_SEGMENT), (ends[1] ?? 0) - 3);

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("(acknowledged records there are lost); skipped")]);
      expect((await reopened.store.loadLog("m")).map((entry) => entry.seq)).toEqual([1, 3, 4]);
    });

    it("refuses to open on damage in the middle of the log under strict recovery, but still repairs a torn tail", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      const ends = await appendAll(store, dir, ["m", "m", "m", "m"]);
      await store.close();
      await flipByte(join(dir, FIRST_SEGMENT), (ends[1] ?? 0) - 3);
      await expect(FileStore.open({ dir, logger: recordingLogger(), strictRecovery: true })).rejects.toMatchObject({
        code: "INTERNAL_ERROR",
        message: expect.stringContaining("refusing to open (strict recovery)"),
      });

      const torn = await newDir();
      const first = await openIn(torn);
      await appendAll(first.store, torn, ["t", "t"]);
      await first.store.close();
      const path = join(torn, FIRST_SEGMENT);
      await writeFile(path, Buffer.concat([await readFile(path), Buffer.alloc(64)]));
      const strict = await openIn(torn, { strictRecovery: true });
      expect((await strict.store.loadLog("t")).map((entry) => entry.seq)).toEqual([1, 2]);
    });

    it("rewrites a segment header torn while the segment was being created", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      await appendAll(store, dir, ["h"]);
      await store.close();
      await dropCheckpoint(dir);
      await writeFile(join(dir, "wal", "000000000002.wal"), Buffer.from("MACP"));

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("incomplete header")]);
      await reopened.store.append("h", [logEntry("h", 2)]);
      await reopened.store.close();
      const clean = await openIn(dir);
      expect(clean.logger.warnings).toEqual([]);
      expect((await clean.store.loadLog("h")).map((entry) => entry.seq)).toEqual([1, 2]);
    });

    it("refuses to open a log whose older segment has no valid header", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir, { segmentBytes: 200 });
      await appendAll(store, dir, ["x", "x", "x"]);
      await store.close();
      await flipByte(join(dir, FIRST_SEGMENT), 2);

      const error = await FileStore.open({ dir, logger: recordingLogger() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MacpError);
      expect((error as MacpError).message).toContain("no valid header");
    });

    it("removes temp files left by interrupted registry writes", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      await store.saveRegistry("policies", "[]");
      await store.close();
      await writeFile(join(dir, "registries", "policies.reg.tmp"), "half a registry");

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([expect.stringContaining("removed 1 temp file(s)")]);
      expect(await readdir(join(dir, "registries"))).toEqual(["policies.reg"]);
      expect(await reopened.store.loadRegistry("policies")).toBe("[]");
    });

    it("never loses a record that precedes a torn tail or a flipped byte (property)", async () => {
      const dir = await newDir();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ session: fc.integer({ min: 0, max: 3 }), bytes: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 12 }),
          fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          fc.constantFrom("truncate", "flip"),
          async (appends, where, damage) => {
            const runDir = join(dir, String(run++));
            const store = await FileStore.open({ dir: runDir, sync: noSync, logger: recordingLogger() });
            const ends: number[] = [];
            for (const [i, append] of appends.entries()) {
              await store.append(`s${append.session}`, [logEntry(`s${append.session}`, i + 1, { payload: new Uint8Array(append.bytes).fill(i) })]);
              ends.push((await stat(join(runDir, FIRST_SEGMENT))).size);
            }
            await store.close();
            await dropCheckpoint(runDir);
            const start = 16;
            const end = ends[ends.length - 1] ?? start;
            const at = start + Math.floor(where * (end - start));
            if (damage === "truncate") await truncate(join(runDir, FIRST_SEGMENT), at);
            else await flipByte(join(runDir, FIRST_SEGMENT), at);

            const damaged = ends.findIndex((recordEnd) => at < recordEnd);
            const survives = (i: number): boolean => (damage === "truncate" ? i < damaged : i !== damaged);
            const reopened = await FileStore.open({ dir: runDir, sync: noSync, logger: recordingLogger() });
            for (let s = 0; s < 4; s++) {
              const expected = appends.flatMap((append, i) => (append.session === s && survives(i) ? [i + 1] : []));
              expect((await reopened.loadLog(`s${s}`)).map((entry) => entry.seq)).toEqual(expected);
            }
            await reopened.close();
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe("group commit", () => {
    /** A sync hook that counts log syncs and holds them until released. */
    function gatedSync() {
      let released = false;
      const held: (() => void)[] = [];
      let entered: () => void = () => undefined;
      const firstEntered = new Promise<void>((resolve) => (entered = resolve));
      const counts = { wal: 0 };
      const sync: SyncFunction = async (target) => {
        if (target.kind === "wal") {
          counts.wal++;
          entered();
          if (!released) await new Promise<void>((resolve) => held.push(resolve));
        }
        await realSync(target);
      };
      const release = (): void => {
        released = true;
        for (const resume of held.splice(0)) resume();
      };
      return { sync, counts, firstEntered, release };
    }

    it("shares one fdatasync among concurrent appends and acknowledges none before it", async () => {
      const gate = gatedSync();
      const { store } = await openIn(await newDir(), { sync: gate.sync });
      const acknowledged: string[] = [];
      const appendOne = (id: string, seq: number): Promise<void> =>
        store.append(id, [logEntry(id, seq)]).then(() => void acknowledged.push(`${id}/${seq}`));

      const firstWave = Array.from({ length: 64 }, (_, i) => appendOne(`g-${i}`, 1));
      await gate.firstEntered;
      // Queued while the first sync is in progress: these must wait for a second one.
      const secondWave = Array.from({ length: 64 }, (_, i) => appendOne(`g-${i}`, 2));
      await new Promise((resolve) => setImmediate(resolve));
      expect(acknowledged).toEqual([]);

      gate.release();
      await Promise.all([...firstWave, ...secondWave]);
      expect(acknowledged).toHaveLength(128);
      expect(gate.counts.wal).toBe(2);
      for (let i = 0; i < 64; i++) expect((await store.loadLog(`g-${i}`)).map((entry) => entry.seq)).toEqual([1, 2]);
    });

    it("syncs once per append in per-append mode", async () => {
      let walSyncs = 0;
      const sync: SyncFunction = async (target) => {
        if (target.kind === "wal") walSyncs++;
        await realSync(target);
      };
      const { store } = await openIn(await newDir(), { sync, syncMode: "per-append" });
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(`p-${i}`, [logEntry(`p-${i}`, 1)])));
      expect(walSyncs).toBe(20);
    });

    it("rejects only the group whose sync failed, and its records do not reappear after reopen", async () => {
      let failNext = 0;
      const sync: SyncFunction = async (target) => {
        if (target.kind === "wal" && failNext > 0) {
          failNext--;
          throw new Error("EIO: simulated");
        }
        await realSync(target);
      };
      const dir = await newDir();
      const { store } = await openIn(dir, { sync });
      await store.append("f", [logEntry("f", 1)]);
      failNext = 1;
      const error = await store.append("f", [logEntry("f", 2)]).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "MacpError", code: "INTERNAL_ERROR" });
      await store.append("f", [logEntry("f", 2, { messageId: "retry" })]);
      expect((await store.loadLog("f")).map((entry) => entry.messageId)).toEqual(["msg-f-1", "retry"]);
      await store.close();

      const reopened = await openIn(dir);
      expect(reopened.logger.warnings).toEqual([]);
      expect((await reopened.store.loadLog("f")).map((entry) => entry.messageId)).toEqual(["msg-f-1", "retry"]);
    });

    it("refuses further appends when a failed group cannot be undone", async () => {
      let failNext = 0;
      const sync: SyncFunction = async (target) => {
        if (target.kind === "wal" && failNext > 0) {
          failNext--;
          throw new Error("EIO: simulated");
        }
        await realSync(target);
      };
      const { store } = await openIn(await newDir(), { sync });
      failNext = 2;
      await expect(store.append("u", [logEntry("u", 1)])).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
      await expect(store.append("u", [logEntry("u", 1)])).rejects.toThrow(/restart required/);
    });
  });

  describe("segments and files", () => {
    it("rebuilds the same index at reopen for thousands of sessions with ids of every shape, across segments", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir, { segmentBytes: 32 * 1024, sync: noSync });
      const ids = Array.from({ length: 3000 }, (_, i) => {
        const uuid = `${((i * 2654435761) >>> 0).toString(16).padStart(8, "0")}-abcd-4ef0-8a0b-${i.toString(16).padStart(12, "0")}`;
        return [uuid, uuid.toUpperCase(), `sessión-${i}-✓`][i % 3] ?? uuid;
      });
      const oracle = new Map<string, number[]>();
      for (let seq = 1; seq <= 3; seq++) {
        await Promise.all(
          ids.map((id, i) => {
            if (seq > 1 && i % 2 === 1) return Promise.resolve();
            oracle.set(id, [...(oracle.get(id) ?? []), seq]);
            return store.append(id, [logEntry(id, seq)]);
          }),
        );
      }
      await store.close();

      const reopened = await openIn(dir, { segmentBytes: 32 * 1024, sync: noSync });
      expect((await readdir(join(dir, "wal"))).length).toBeGreaterThan(3);
      expect(new Set(await reopened.store.listSessions())).toEqual(new Set(oracle.keys()));
      for (const [id, seqs] of oracle) {
        const log = await reopened.store.loadLog(id);
        if (log.some((entry) => entry.sessionId !== id) || log.map((entry) => entry.seq).join() !== seqs.join()) {
          expect.fail(`log of ${id} after reopen: ${log.map((entry) => `${entry.sessionId}/${entry.seq}`).join(", ")}`);
        }
      }
      // Ids that differ only in case are different sessions: session 0 was stored in lower case only.
      expect(await reopened.store.loadLog((ids[0] ?? "").toUpperCase())).toEqual([]);
    });

    it("rolls segments at the configured size and keeps a bounded number of them open", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir, { segmentBytes: 1024, sync: noSync });
      const sessions = Array.from({ length: 40 }, (_, i) => `seg-${i}`);
      for (let seq = 1; seq <= 10; seq++) {
        for (const id of sessions) await store.append(id, [logEntry(id, seq, { payload: new Uint8Array(60) })]);
      }
      await store.close();
      const segments = (await readdir(join(dir, "wal"))).length;
      expect(segments).toBeGreaterThan(40);

      const openFds = async (): Promise<number> => (await readdir("/dev/fd")).length;
      const before = await openFds();
      const reopened = await openIn(dir, { segmentBytes: 1024, sync: noSync });
      for (const id of sessions) {
        expect((await reopened.store.loadLog(id)).map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }
      // 16 cached read handles plus the active log segment and the active snapshot-log segment.
      expect((await openFds()) - before).toBeLessThanOrEqual(18);
    });

    it("reports a corrupt registry file as StorageFailed", async () => {
      const dir = await newDir();
      const { store } = await openIn(dir);
      await store.saveRegistry("modes", "[]");
      await flipByte(join(dir, "registries", "modes.reg"), 13);
      await expect(store.loadRegistry("modes")).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
    });
  });
});
