import { afterEach, describe, expect, it } from "vitest";
import type { LogEntry, SessionStore } from "@macp/core";
import { MacpError } from "@macp/protocol";
import { logEntry } from "./log-entries.js";

/** Storage one test owns: opened (and reopened) as stores, then removed. */
export interface StoreBackend {
  open(): Promise<SessionStore>;
  dispose(): Promise<void>;
}

/** How the contract suite gets fresh storage for a backend. */
export interface ContractSubject {
  createBackend(): Promise<StoreBackend>;
  /** Whether data outlives a store (close and reopen). */
  durable: boolean;
}

/** The behaviour every `SessionStore` backend must share; run once per backend. */
export function describeSessionStoreContract(name: string, subject: ContractSubject): void {
  describe(`${name} (SessionStore contract)`, () => {
    const cleanups: (() => Promise<void>)[] = [];

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** Fresh storage plus a store over it; both cleaned up after the test. */
    async function setUp(): Promise<{ store: SessionStore; reopen: () => Promise<SessionStore> }> {
      const backend = await subject.createBackend();
      cleanups.push(() => backend.dispose());
      const track = async (): Promise<SessionStore> => {
        const store = await backend.open();
        cleanups.push(() => store.close());
        return store;
      };
      return { store: await track(), reopen: track };
    }

    it("returns appended entries in append order, field for field", async () => {
      const { store } = await setUp();
      const first = [logEntry("s-1", 1), logEntry("s-1", 2, { sender: "agent://bob" })];
      const second = [logEntry("s-1", 2, { kind: "internal", messageType: "SessionSuspend", messageId: "", sender: "_runtime" })];
      await store.append("s-1", first);
      await store.append("s-1", second);
      expect(await store.loadLog("s-1")).toEqual([...first, ...second]);
    });

    it("returns an empty log, no snapshot and no registry for unknown names", async () => {
      const { store } = await setUp();
      expect(await store.loadLog("nobody")).toEqual([]);
      expect(await store.loadLogAfter("nobody", 0)).toEqual([]);
      expect(await store.loadSnapshot("nobody")).toBeUndefined();
      expect(await store.loadRegistry("policies")).toBeUndefined();
      expect(await store.listSessions()).toEqual([]);
    });

    it("loadLogAfter returns only incoming entries with seq above the given one, in order", async () => {
      const { store } = await setUp();
      const log: LogEntry[] = [
        logEntry("s", 1),
        logEntry("s", 2),
        logEntry("s", 2, { kind: "internal", messageType: "SessionSuspend" }),
        logEntry("s", 2, { kind: "checkpoint", messageType: "Checkpoint", macpVersion: "" }),
        logEntry("s", 3),
        logEntry("s", 3, { kind: "internal", messageType: "TtlExpired", payload: new Uint8Array() }),
        logEntry("s", 4),
      ];
      for (const entry of log) await store.append("s", [entry]);
      const seqs = async (after: number): Promise<number[]> =>
        (await store.loadLogAfter("s", after)).map((entry) => {
          expect(entry.kind).toBe("incoming");
          return entry.seq;
        });
      expect(await seqs(0)).toEqual([1, 2, 3, 4]);
      expect(await seqs(2)).toEqual([3, 4]);
      expect(await seqs(4)).toEqual([]);
      expect(await store.loadLogAfter("s", 2)).toEqual([log[4], log[6]]);
    });

    it("keeps payload bytes exact: empty, every byte value, large, and views into larger buffers", async () => {
      const { store } = await setUp();
      const large = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
      const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
      const payloads = [new Uint8Array(), Uint8Array.from({ length: 256 }, (_, i) => i), large, backing.subarray(2, 5)];
      await store.append("bytes", payloads.map((payload, i) => logEntry("bytes", i + 1, { payload })));
      const loaded = await store.loadLog("bytes");
      // Compared as hex: element-wise comparison of 200 kB arrays is needlessly slow.
      const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
      expect(loaded.map((entry) => hex(entry.payload))).toEqual(payloads.map(hex));
      for (const entry of loaded) expect(entry.payload).toBeInstanceOf(Uint8Array);
      expect(loaded[3]?.payload).toEqual(new Uint8Array([1, 2, 3]));
    });

    it("keeps strings exact, including non-ASCII session ids and empty fields", async () => {
      const { store } = await setUp();
      const id = "sessión-✓-🚀-Ωmega";
      const entries = [logEntry(id, 1, { sender: "agënt://ünïcode/😀", messageId: "", macpVersion: "", mode: "" })];
      await store.append(id, entries);
      expect(await store.loadLog(id)).toEqual(entries);
      expect(await store.listSessions()).toEqual([id]);
    });

    it("returns the latest snapshot after overwrites", async () => {
      const { store } = await setUp();
      await store.writeSnapshot("snap", { logLength: 1, state: '{"state":"Open"}' });
      expect(await store.loadSnapshot("snap")).toEqual({ logLength: 1, state: '{"state":"Open"}' });
      const big = JSON.stringify({ seen: Array.from({ length: 5000 }, (_, i) => `msg-${i}`), text: "ünïcode ✓" });
      await store.writeSnapshot("snap", { logLength: 5001, state: big });
      expect(await store.loadSnapshot("snap")).toEqual({ logLength: 5001, state: big });
    });

    it("applies concurrent snapshot writes of one session in call order", async () => {
      const { store } = await setUp();
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.writeSnapshot("race", { logLength: i, state: `{"v":${i}}` })));
      expect(await store.loadSnapshot("race")).toEqual({ logLength: 19, state: '{"v":19}' });
    });

    it("keeps the policies and modes registries separately and returns the last saved document", async () => {
      const { store } = await setUp();
      await store.saveRegistry("policies", '[{"policy_id":"p1"}]');
      await store.saveRegistry("modes", "[]");
      await store.saveRegistry("policies", '[{"policy_id":"p2"}]');
      expect(await store.loadRegistry("policies")).toBe('[{"policy_id":"p2"}]');
      expect(await store.loadRegistry("modes")).toBe("[]");
    });

    it("lists every session that has a log or a snapshot, once", async () => {
      const { store } = await setUp();
      await store.append("a", [logEntry("a", 1)]);
      await store.append("a", [logEntry("a", 2)]);
      await store.append("b", [logEntry("b", 1)]);
      await store.writeSnapshot("b", { logLength: 1, state: "{}" });
      await store.writeSnapshot("c", { logLength: 0, state: "{}" });
      expect((await store.listSessions()).sort()).toEqual(["a", "b", "c"]);
    });

    it("lists as unfinished every session but those whose finished snapshot covers the whole log", async () => {
      const { store, reopen } = await setUp();
      const finishedAt = 1_700_000_100_000;
      await store.append("open", [logEntry("open", 1), logEntry("open", 2)]);
      await store.writeSnapshot("open", { logLength: 2, state: '{"status":"Open"}' });
      await store.append("done", [logEntry("done", 1), logEntry("done", 2)]);
      await store.writeSnapshot("done", { logLength: 2, state: '{"status":"Resolved"}', finishedAtUnixMs: finishedAt });
      // A finished snapshot older than the log's end (its writer crashed before the last one) proves nothing.
      await store.append("behind", [logEntry("behind", 1)]);
      await store.writeSnapshot("behind", { logLength: 1, state: "{}", finishedAtUnixMs: finishedAt });
      await store.append("behind", [logEntry("behind", 2)]);
      await store.append("unsnapshotted", [logEntry("unsnapshotted", 1)]);
      expect((await store.listUnfinishedSessions()).sort()).toEqual(["behind", "open", "unsnapshotted"]);
      expect(await store.loadSnapshot("done")).toEqual({ logLength: 2, state: '{"status":"Resolved"}', finishedAtUnixMs: finishedAt });
      expect(await store.loadSnapshot("open")).toEqual({ logLength: 2, state: '{"status":"Open"}' });
      if (subject.durable) {
        await store.close();
        const reopened = await reopen();
        expect((await reopened.listUnfinishedSessions()).sort()).toEqual(["behind", "open", "unsnapshotted"]);
        expect((await reopened.listSessions()).sort()).toEqual(["behind", "done", "open", "unsnapshotted"]);
        expect((await reopened.loadSnapshot("done"))?.finishedAtUnixMs).toBe(finishedAt);
      }
    });

    it("lists finished sessions by finish time and removes them for good, leaving the others untouched", async () => {
      const { store, reopen } = await setUp();
      const finish = async (id: string, finishedAtUnixMs: number): Promise<void> => {
        await store.append(id, [logEntry(id, 1), logEntry(id, 2)]);
        await store.writeSnapshot(id, { logLength: 2, state: `{"id":"${id}"}`, finishedAtUnixMs });
      };
      await finish("old-1", 1_000_000);
      await finish("old-2", 2_000_000);
      await finish("recent", 9_000_000);
      await store.append("open", [logEntry("open", 1)]);
      await store.writeSnapshot("open", { logLength: 1, state: "{}" });

      expect((await store.listFinishedBefore(5_000_000, 10)).sort()).toEqual(["old-1", "old-2"]);
      expect(await store.listFinishedBefore(5_000_000, 1)).toHaveLength(1);
      expect(await store.listFinishedBefore(500_000, 10)).toEqual([]);
      const before = await store.usage();
      expect(before.finishedSessions).toBe(3);
      expect(before.unfinishedSessions).toBe(1);

      await store.removeSessions(["old-1", "old-2", "never-existed"]);

      for (const id of ["old-1", "old-2"]) {
        expect(await store.loadLog(id)).toEqual([]);
        expect(await store.loadLogAfter(id, 0)).toEqual([]);
        expect(await store.loadSnapshot(id)).toBeUndefined();
      }
      expect((await store.listSessions()).sort()).toEqual(["open", "recent"]);
      expect(await store.listFinishedBefore(5_000_000, 10)).toEqual([]);
      expect((await store.loadLog("recent")).map((entry) => entry.seq)).toEqual([1, 2]);
      expect((await store.usage()).finishedSessions).toBe(1);
      // A removed id is free again, as if never used.
      await store.append("old-1", [logEntry("old-1", 1)]);
      expect((await store.loadLog("old-1")).map((entry) => entry.seq)).toEqual([1]);
      expect(await store.loadSnapshot("old-1")).toBeUndefined();
      if (subject.durable) {
        await store.close();
        const reopened = await reopen();
        expect((await reopened.listSessions()).sort()).toEqual(["old-1", "open", "recent"]);
        expect(await reopened.loadLog("old-2")).toEqual([]);
        expect(await reopened.loadSnapshot("old-2")).toBeUndefined();
        expect((await reopened.loadLog("old-1")).map((entry) => entry.seq)).toEqual([1]);
        expect(await reopened.loadSnapshot("old-1")).toBeUndefined();
        expect((await reopened.loadSnapshot("recent"))?.finishedAtUnixMs).toBe(9_000_000);
        expect((await reopened.listUnfinishedSessions()).sort()).toEqual(["old-1", "open"]);
      }
    });

    it("treats an empty append as a no-op", async () => {
      const { store } = await setUp();
      await store.append("empty", []);
      expect(await store.listSessions()).toEqual([]);
      expect(await store.loadLog("empty")).toEqual([]);
    });

    it("keeps call order for concurrent appends to one session", async () => {
      const { store } = await setUp();
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.append("one", [logEntry("one", i + 1)])));
      expect((await store.loadLog("one")).map((entry) => entry.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it("keeps per-session order for concurrent interleaved appends to many sessions", async () => {
      const { store } = await setUp();
      const sessions = Array.from({ length: 20 }, (_, i) => `many-${i}`);
      const appends: Promise<void>[] = [];
      for (let seq = 1; seq <= 10; seq++) {
        for (const id of sessions) appends.push(store.append(id, [logEntry(id, seq), logEntry(id, seq, { kind: "internal" })]));
      }
      await Promise.all(appends);
      for (const id of sessions) {
        const log = await store.loadLog(id);
        const expected = Array.from({ length: 10 }, (_, i) => [`${i + 1}:incoming`, `${i + 1}:internal`]).flat();
        expect(log.map((entry) => `${entry.seq}:${entry.kind}`)).toEqual(expected);
        expect(log.every((entry) => entry.sessionId === id)).toBe(true);
        expect((await store.loadLogAfter(id, 7)).map((entry) => entry.seq)).toEqual([8, 9, 10]);
      }
    });

    it("rejects entries it could not store faithfully with StorageFailed and stores nothing", async () => {
      const { store } = await setUp();
      const attempts: [string, LogEntry[]][] = [
        ["mine", [logEntry("mine", 1), logEntry("other", 2)]],
        ["mine", [logEntry("mine", -1)]],
        ["mine", [logEntry("mine", 1.5)]],
        ["mine", [logEntry("mine", 2 ** 32)]],
        ["mine", [logEntry("mine", 1, { timestampUnixMs: 1.25 as unknown as bigint })]],
        ["mine", [logEntry("mine", 1, { timestampUnixMs: 2n ** 63n })]],
        ["mine", [logEntry("mine", 1, { receivedAtUnixMs: 2 ** 60 })]],
        ["mine", [logEntry("mine", 1, { kind: "bogus" as LogEntry["kind"] })]],
      ];
      for (const [id, entries] of attempts) {
        const error = await store.append(id, entries).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(MacpError);
        expect((error as MacpError).code).toBe("INTERNAL_ERROR");
      }
      for (const bad of [{ logLength: -1, state: "{}" }, { logLength: 1, state: "{}", finishedAtUnixMs: -5 }, { logLength: 1, state: "{}", finishedAtUnixMs: 0.5 }]) {
        const snapshotError = await store.writeSnapshot("mine", bad).catch((caught: unknown) => caught);
        expect((snapshotError as MacpError).code).toBe("INTERNAL_ERROR");
      }
      expect(await store.listSessions()).toEqual([]);
    });

    it("keeps every int64 envelope timestamp exactly, i64::MAX and i64::MIN included", async () => {
      const { store, reopen } = await setUp();
      const timestamps = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n, 0n, -1n];
      const log = timestamps.map((timestampUnixMs, i) => logEntry("big", i + 1, { timestampUnixMs }));
      await store.append("big", log);
      expect((await store.loadLog("big")).map((entry) => entry.timestampUnixMs)).toEqual(timestamps);
      expect((await store.loadLogAfter("big", 0)).map((entry) => entry.timestampUnixMs)).toEqual(timestamps);
      if (subject.durable) {
        await store.close();
        const reopened = await reopen();
        expect(await reopened.loadLog("big")).toEqual(log);
      }
    });

    it("rejects every operation after close", async () => {
      const { store } = await setUp();
      await store.close();
      await expect(store.append("x", [logEntry("x", 1)])).rejects.toBeInstanceOf(MacpError);
      await expect(store.loadLog("x")).rejects.toBeInstanceOf(MacpError);
      await expect(store.listSessions()).rejects.toBeInstanceOf(MacpError);
    });

    if (subject.durable) {
      it("keeps logs, snapshots and registries across close and reopen", async () => {
        const { store, reopen } = await setUp();
        const log = [logEntry("r", 1), logEntry("r", 1, { kind: "internal" }), logEntry("r", 2, { payload: new Uint8Array() })];
        await store.append("r", log.slice(0, 2));
        await store.append("r", log.slice(2));
        await store.append("q", [logEntry("q", 1)]);
        await store.writeSnapshot("r", { logLength: 3, state: '{"a":1}' });
        await store.saveRegistry("modes", '["x"]');
        await store.close();

        const reopened = await reopen();
        expect(await reopened.loadLog("r")).toEqual(log);
        expect(await reopened.loadLogAfter("r", 1)).toEqual([log[2]]);
        expect((await reopened.listSessions()).sort()).toEqual(["q", "r"]);
        expect(await reopened.loadSnapshot("r")).toEqual({ logLength: 3, state: '{"a":1}' });
        expect(await reopened.loadRegistry("modes")).toBe('["x"]');
        expect(await reopened.loadRegistry("policies")).toBeUndefined();

        await reopened.append("r", [logEntry("r", 3)]);
        await reopened.close();
        const again = await reopen();
        expect((await again.loadLog("r")).map((entry) => entry.seq)).toEqual([1, 1, 2, 3]);
      });

      it("makes appends still in flight at close durable", async () => {
        const { store, reopen } = await setUp();
        const pending = Array.from({ length: 30 }, (_, i) => store.append(`f-${i % 3}`, [logEntry(`f-${i % 3}`, Math.floor(i / 3) + 1)]));
        await store.close();
        await Promise.all(pending);
        const reopened = await reopen();
        for (let s = 0; s < 3; s++) {
          expect((await reopened.loadLog(`f-${s}`)).map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        }
      });
    }
  });
}
