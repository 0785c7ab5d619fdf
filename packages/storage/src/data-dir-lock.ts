import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { storageFailed } from "./storage-error.js";

const LOCK_FILE = "LOCK";

/**
 * Claims a data directory for this process, so two daemons can never write one log. The lock file
 * holds the owner's pid; a lock left by a process that no longer runs (a crash, SIGKILL) is taken
 * over. Returns the release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt((await readFile(path, "utf8").catch(() => "")).trim(), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw storageFailed(`data directory ${dir} is in use by process ${owner} (remove ${path} if that is wrong)`);
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw storageFailed(`cannot lock data directory ${dir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
