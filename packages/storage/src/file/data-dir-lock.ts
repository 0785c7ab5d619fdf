import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { storageFailed } from "../storage-error.js";

const LOCK_FILE = "LOCK";

/** What a lock file records about its holder. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/** Which file a lock is: a lock file removed or replaced is another file (or none). */
interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly mtimeMs: number;
}

/** A data directory lock held by this process. */
export interface DataDirLock {
  /**
   * Resolves while the directory's lock file is still the one this process created; rejects
   * with `StorageFailed` once it was removed or replaced (by hand, or by a process that judged
   * it stale), because another writer may then own the directory.
   */
  verify(): Promise<void>;
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

/** Directories this process holds, by path, with the token written into their lock file. */
const heldHere = new Map<string, string>();

/**
 * Claims a data directory for this process, so two daemons (or a daemon and the CLI) can never
 * write one log. The lock file names the holder's host, pid and a random token. A lock left by a
 * process of this host that no longer runs (a crash, SIGKILL, or an earlier container that had
 * the same pid) is taken over; a lock from another host is never guessed stale.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  if (heldHere.has(dir)) throw storageFailed(`data directory ${dir} is already open in this process`);
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), token: randomUUID() };
  for (let attempt = 0; attempt < 3; attempt++) {
    const created = await createLock(path, me);
    if (created !== undefined) {
      heldHere.set(dir, me.token);
      return {
        verify: () => verifyLock(path, created, me.token),
        async release() {
          heldHere.delete(dir);
          const current = await readOwner(path);
          if (current?.token === me.token) await unlink(path).catch(() => undefined);
        },
      };
    }
    const owner = await readOwner(path);
    if (owner && !isStale(owner)) {
      throw storageFailed(
        `data directory ${dir} is in use by process ${owner.pid} on ${owner.host} (remove ${path} if that process is gone)`,
      );
    }
    await takeOver(path, owner);
  }
  throw storageFailed(`cannot lock data directory ${dir}`);
}

/** Creates the lock file; undefined when one exists already. */
async function createLock(path: string, me: LockOwner): Promise<FileIdentity | undefined> {
  try {
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.sync();
      return identity(await handle.stat());
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  }
}

/**
 * One `stat`, cheap enough to run before every group commit. The file is read only when it was
 * modified in place (its mtime moved): it is still ours if it still holds our token.
 */
async function verifyLock(path: string, created: FileIdentity, token: string): Promise<void> {
  let current: FileIdentity;
  try {
    current = identity(await stat(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw storageFailed(`data directory lock ${path} was removed`);
    throw storageFailed(`cannot check data directory lock ${path}`, error);
  }
  if (current.dev === created.dev && current.ino === created.ino && current.mtimeMs === created.mtimeMs) return;
  const owner = await readOwner(path);
  if (current.dev === created.dev && current.ino === created.ino && owner?.token === token) return;
  throw storageFailed(`data directory lock ${path} was replaced${owner ? ` (now held by process ${owner.pid} on ${owner.host})` : ""}`);
}

function identity(stats: { dev: number; ino: number; mtimeMs: number }): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, mtimeMs: stats.mtimeMs };
}

/**
 * Moves a stale lock aside atomically. If another process replaced it between our read and the
 * move, its fresh lock is put back and we give up the attempt.
 */
async function takeOver(path: string, judged: LockOwner | undefined): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = await readOwner(aside);
  if (moved?.token !== judged?.token) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === "number" && typeof parsed.host === "string" && typeof parsed.token === "string") {
      return { pid: parsed.pid, host: parsed.host, token: parsed.token };
    }
  } catch {
    // Not ours or torn while being written: judged below as an unknown owner.
  }
  return { pid: Number.parseInt(text.trim(), 10) || 0, host: hostname(), token: text };
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  // Our own pid in a lock this process does not hold: an earlier incarnation (e.g. PID 1 of a
  // restarted container) that died without releasing it.
  if (owner.pid === process.pid) return true;
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "EPERM";
  }
}
