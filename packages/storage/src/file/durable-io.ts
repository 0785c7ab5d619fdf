import { open, type FileHandle } from "node:fs/promises";

/** What a sync call is making durable. */
export interface SyncTarget {
  readonly handle: FileHandle;
  readonly path: string;
  /** `wal`: a log segment after a group of appends; `file`: a snapshot/registry/segment file before it is published; `directory`: a directory after entries in it changed. */
  readonly kind: "wal" | "file" | "directory";
  /** For the sync that commits a group of log appends: how many appends the group holds. */
  readonly appends?: number;
}

/**
 * Makes a file's written data (or a directory's entries) durable. Injectable so tests can count
 * syncs or make them fail; the default is `fdatasync` for files and `fsync` for directories.
 */
export type SyncFunction = (target: SyncTarget) => Promise<void>;

/** The production sync: `fdatasync` suffices for files since it also persists the file size. */
export const defaultSync: SyncFunction = (target) =>
  target.kind === "directory" ? target.handle.sync() : target.handle.datasync();

/** Writes all of `data` at `position`, looping over short writes. */
export async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position` (fewer only at end of file). */
export async function readFully(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return read === length ? buffer : buffer.subarray(0, read);
}

/** Persists the entries (creations, renames, removals) of a directory. */
export async function syncDirectory(path: string, sync: SyncFunction): Promise<void> {
  const handle = await open(path, "r");
  try {
    await sync({ handle, path, kind: "directory" });
  } finally {
    await handle.close();
  }
}
