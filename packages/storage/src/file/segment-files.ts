import { open, type FileHandle } from "node:fs/promises";

interface OpenSegment {
  readonly handle: Promise<FileHandle>;
  users: number;
  /** The segment is being deleted: close the handle once its last read ends. */
  forgotten: boolean;
}

/**
 * Read-only handles on log segments, at most `maxOpen` kept open (least recently used closed
 * first, never while a read is using it), so the number of descriptors does not grow with the
 * size of the log.
 */
export class SegmentFiles {
  private readonly open = new Map<number, OpenSegment>();

  constructor(
    private readonly pathOf: (segment: number) => string,
    private readonly maxOpen: number,
  ) {}

  /** Runs `read` with a handle on `segment`. */
  async with<T>(segment: number, read: (handle: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.open.get(segment);
    if (entry === undefined) {
      entry = { handle: open(this.pathOf(segment), "r"), users: 0, forgotten: false };
      const opening = entry;
      opening.handle.catch(() => {
        if (this.open.get(segment) === opening) this.open.delete(segment);
      });
    } else {
      this.open.delete(segment);
    }
    this.open.set(segment, entry);
    entry.users++;
    try {
      return await read(await entry.handle);
    } finally {
      entry.users--;
      if (entry.forgotten && entry.users === 0) void closeQuietly(entry.handle);
      this.evict();
    }
  }

  /** Drops the handle on a segment about to be deleted, closing it once no read uses it. */
  forget(segment: number): void {
    const entry = this.open.get(segment);
    if (entry === undefined) return;
    this.open.delete(segment);
    entry.forgotten = true;
    if (entry.users === 0) void closeQuietly(entry.handle);
  }

  /** Closes every handle (the store is closing; reads still running fail). */
  async close(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(entries.map((entry) => closeQuietly(entry.handle)));
  }

  private evict(): void {
    for (const [segment, entry] of this.open) {
      if (this.open.size <= this.maxOpen) return;
      if (entry.users > 0) continue;
      this.open.delete(segment);
      void closeQuietly(entry.handle);
    }
  }
}

async function closeQuietly(handle: Promise<FileHandle>): Promise<void> {
  try {
    await (await handle).close();
  } catch {
    // A handle that failed to open has nothing to close.
  }
}
