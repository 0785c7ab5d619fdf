import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { syncDirectory, type SyncFunction } from "./durable-io.js";
import { LEGACY_SNAPSHOT_DIR, isLegacySnapshotFileName } from "./file-layout.js";
import { FRAME_HEADER_BYTES, frameSizeAt } from "./frame.js";
import { decodeSnapshotBody } from "./record-codec.js";
import type { SnapshotLog } from "./snapshot-log.js";
import type { StorageLogger } from "../storage-logger.js";

/** Files read (and snapshots appended, sharing fdatasyncs) at a time. */
const BATCH = 256;
/** Earlier versions wrote each snapshot file as one frame without salt. */
const LEGACY_SALT = 0;

/**
 * Moves the per-session snapshot files of earlier versions (`<dir>/snapshots/*.snap`) into the
 * snapshot log, then deletes that directory, so a data directory written by an earlier version
 * opens with its snapshots and no snapshot file is ever written again. A file that is damaged
 * is dropped with a warning (its session replays its log, as it did before). A session that
 * already has a snapshot in the log keeps it: it can only be this import's own copy from a run
 * interrupted before the directory was deleted.
 */
export async function importLegacySnapshots(dir: string, log: SnapshotLog, sync: SyncFunction, logger: StorageLogger): Promise<void> {
  const legacyDir = join(dir, LEGACY_SNAPSHOT_DIR);
  let names: string[];
  try {
    names = (await readdir(legacyDir)).filter(isLegacySnapshotFileName);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  let imported = 0;
  const damaged: string[] = [];
  for (let start = 0; start < names.length; start += BATCH) {
    const batch = names.slice(start, start + BATCH);
    const snapshots = await Promise.all(batch.map((name) => readLegacyFile(join(legacyDir, name))));
    const writes: Promise<void>[] = [];
    snapshots.forEach((snapshot, i) => {
      if (snapshot === undefined) damaged.push(batch[i] ?? "");
      else if (!log.has(snapshot.sessionId)) writes.push(log.write(snapshot.sessionId, snapshot.snapshot));
    });
    await Promise.all(writes);
    imported += writes.length;
  }
  await rm(legacyDir, { recursive: true, force: true });
  await syncDirectory(dir, sync);
  if (damaged.length > 0) logger.warn(`dropped ${damaged.length} damaged snapshot file(s) of an earlier version: ${damaged.slice(0, 5).join(", ")}`);
  logger.info(`imported ${imported} snapshot file(s) of an earlier version into the snapshot log and removed ${legacyDir}`);
}

async function readLegacyFile(path: string): Promise<ReturnType<typeof decodeSnapshotBody> | undefined> {
  const bytes = await readFile(path);
  if (frameSizeAt(bytes, 0, bytes.length, LEGACY_SALT) !== bytes.length) return undefined;
  try {
    return decodeSnapshotBody(bytes.subarray(FRAME_HEADER_BYTES));
  } catch {
    return undefined;
  }
}
