import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { link, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { storageFailed } from "./storage-error.js";

const LOCK_FILE = "LOCK";

/** What a lock file records about its holder. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/** Directories this process holds, by path, with the token written into their lock file. */
const heldHere = new Map<string, string>();

/**
 * Claims a data directory for this process, so two daemons (or a daemon and the CLI) can never
 * write one log. The lock file names the holder's host, pid and a random token. A lock left by a
 * process of this host that no longer runs (a crash, SIGKILL, or an earlier container that had
 * the same pid) is taken over; a lock from another host is never guessed stale. Returns the
 * release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  if (heldHere.has(dir)) throw storageFailed(`data directory ${dir} is already open in this process`);
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), token: randomUUID() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createLock(path, me)) {
      heldHere.set(dir, me.token);
      return async () => {
        heldHere.delete(dir);
        const current = await readOwner(path);
        if (current?.token === me.token) await unlink(path).catch(() => undefined);
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

async function createLock(path: string, me: LockOwner): Promise<boolean> {
  try {
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
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
