import { afterEach, describe, expect, it, vi } from "vitest";
import { readFile, rename, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MacpError } from "@macp/protocol";
import { FileStore } from "../src/index.js";
import { LogIndex } from "../src/file/log-index.js";
import { logEntry, recordingLogger } from "./log-entries.js";
import { tempDir } from "./temp-dirs.js";

/**
 * The file backend stops writing, and says so once through `onFatal`, when it can no longer be
 * sure it is the directory's only writer (its LOCK file removed or replaced) or when a durable
 * record could not be indexed. Nothing it refused is half-written, and nothing it acknowledged
 * is lost.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openStore(): Promise<{ dir: string; store: FileStore; fatal: MacpError[] }> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const fatal: MacpError[] = [];
  const store = await FileStore.open({ dir: dir.path, logger: recordingLogger(), onFatal: (error) => fatal.push(error) });
  cleanups.push(() => store.close());
  return { dir: dir.path, store, fatal };
}

async function seqsAfterReopen(dir: string, sessionId: string): Promise<number[]> {
  const reopened = await FileStore.open({ dir, logger: recordingLogger() });
  try {
    return (await reopened.loadLog(sessionId)).map((entry) => entry.seq);
  } finally {
    await reopened.close();
  }
}

describe("FileStore data directory lock while open", () => {
  it("refuses every write once its LOCK file is removed, and reports it once", async () => {
    const { dir, store, fatal } = await openStore();
    await store.append("s", [logEntry("s", 1)]);
    await unlink(join(dir, "LOCK"));

    const removed = { code: "INTERNAL_ERROR", message: expect.stringContaining(`data directory lock ${join(dir, "LOCK")} was removed`) };
    await expect(store.append("s", [logEntry("s", 2)])).rejects.toMatchObject(removed);
    await expect(store.append("t", [logEntry("t", 1)])).rejects.toMatchObject(removed);
    await expect(store.writeSnapshot("s", { logLength: 1, state: "{}" })).rejects.toMatchObject(removed);
    await expect(store.saveRegistry("modes", "[]")).rejects.toMatchObject(removed);
    expect(fatal.map((error) => error.message)).toEqual([expect.stringContaining("was removed")]);

    await store.close();
    expect(await seqsAfterReopen(dir, "s")).toEqual([1]);
  });

  it("stops before writing when another process has put its own LOCK file in place", async () => {
    const { dir, store, fatal } = await openStore();
    await store.saveRegistry("modes", '["mine"]');
    const lock = join(dir, "LOCK");
    await rename(lock, `${lock}.old`);
    await writeFile(lock, `${JSON.stringify({ pid: 4242, host: "other-host", token: "theirs" })}\n`);

    await expect(store.append("s", [logEntry("s", 1)])).rejects.toMatchObject({
      message: expect.stringContaining("was replaced (now held by process 4242 on other-host)"),
    });
    await expect(store.saveRegistry("modes", '["stale"]')).rejects.toMatchObject({ message: expect.stringContaining("was replaced") });
    expect(fatal).toHaveLength(1);
    await store.close();
    // The other holder's lock is left alone, and nothing was written after the takeover.
    await unlink(lock);
    const reopened = await FileStore.open({ dir, logger: recordingLogger() });
    expect(await reopened.loadLog("s")).toEqual([]);
    expect(await reopened.loadRegistry("modes")).toBe('["mine"]');
    await reopened.close();
  });
  it("keeps writing when LOCK is only touched, and stops when it is rewritten in place for another holder", async () => {
    const { dir, store, fatal } = await openStore();
    const lock = join(dir, "LOCK");
    const later = new Date(Date.now() + 60_000);
    await utimes(lock, later, later);
    await store.append("s", [logEntry("s", 1)]);
    // Same content rewritten in place (a backup tool restoring it): still ours.
    await writeFile(lock, await readFile(lock));
    await store.append("s", [logEntry("s", 2)]);
    expect(fatal).toEqual([]);

    await writeFile(lock, `${JSON.stringify({ pid: 4242, host: "other-host", token: "theirs" })}\n`);
    await expect(store.append("s", [logEntry("s", 3)])).rejects.toMatchObject({ message: expect.stringContaining("was replaced") });
    expect(fatal).toHaveLength(1);
    await store.close();
    await unlink(lock);
    expect(await seqsAfterReopen(dir, "s")).toEqual([1, 2]);
  });
});

describe("FileStore when indexing a durable record fails", () => {
  it("fails that append and every later one with a typed error, halts, and loses nothing acknowledged", async () => {
    const { dir, store, fatal } = await openStore();
    await store.append("before", [logEntry("before", 1)]);
    const add = LogIndex.prototype.add;
    vi.spyOn(LogIndex.prototype, "add").mockImplementation(function (this: LogIndex, sessionId, ...rest) {
      if (sessionId === "bad") throw new Error("injected index failure");
      return add.call(this, sessionId, ...rest);
    });

    // One group: the record before the failing one is acknowledged, it and the rest are not.
    const outcomes = await Promise.allSettled([
      store.append("ok", [logEntry("ok", 1)]),
      store.append("bad", [logEntry("bad", 1)]),
      store.append("after", [logEntry("after", 1)]),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    for (const outcome of outcomes.slice(1)) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        name: "MacpError",
        code: "INTERNAL_ERROR",
        message: expect.stringContaining("log index update failed after a durable append; restart required: injected index failure"),
      });
    }
    await expect(store.append("ok", [logEntry("ok", 2)])).rejects.toMatchObject({ message: expect.stringContaining("restart required") });
    expect(fatal.map((error) => error.message)).toEqual([expect.stringContaining("injected index failure")]);
    await store.close();

    vi.restoreAllMocks();
    expect(await seqsAfterReopen(dir, "before")).toEqual([1]);
    expect(await seqsAfterReopen(dir, "ok")).toEqual([1]);
    // Refused records were durable already: a restart indexes them, as for any failed append
    // that may have committed, and a retry is then recognised as a duplicate by the kernel.
    expect(await seqsAfterReopen(dir, "bad")).toEqual([1]);
  });
});
