import { open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CoalescedSync } from "./coalesced-sync.js";
import { writeFully, type SyncFunction } from "./durable-io.js";

const TEMP_SUFFIX = ".tmp";

/**
 * Replaces `dir/name` with `data` so a crash leaves either the old or the new content: write a
 * temp file, sync it, rename it over the target, then sync the directory (shared with other
 * renames in flight). Callers serialise writes to the same name.
 */
export async function writeFileAtomically(
  dir: string,
  name: string,
  data: Buffer,
  sync: SyncFunction,
  directorySync: CoalescedSync,
): Promise<void> {
  const temp = join(dir, name + TEMP_SUFFIX);
  try {
    const handle = await open(temp, "w");
    try {
      await writeFully(handle, data, 0);
      await sync({ handle, path: temp, kind: "file" });
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await directorySync.request();
}

/** Deletes temp files a crash left behind in `dir`; returns how many. */
export async function removeStrayTempFiles(dir: string): Promise<number> {
  const strays = (await readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX));
  await Promise.all(strays.map((name) => rm(join(dir, name), { force: true })));
  return strays.length;
}
