import { InMemorySessionStore } from "@macp/core";
import type { LogEntry, RegistryKind, StorageUsage, StoredSnapshot } from "@macp/core";
import { storageFailed } from "../storage-error.js";
import { validateEntries, validateSnapshot } from "../validate-input.js";

/**
 * Keeps everything in process memory: nothing survives the process. Used when
 * `MACP_MEMORY_ONLY=1` and by tests. On top of the kernel's in-memory store it enforces what
 * every backend enforces: input validation and no use after close.
 */
export class MemoryStore extends InMemorySessionStore {
  private closed = false;

  override async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(sessionId, entries);
    if (entries.length > 0) await super.append(sessionId, entries);
  }

  override async loadLog(sessionId: string): Promise<LogEntry[]> {
    this.assertOpen();
    return super.loadLog(sessionId);
  }

  override async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    this.assertOpen();
    return super.loadLogAfter(sessionId, afterSeq);
  }

  override async listSessions(): Promise<string[]> {
    this.assertOpen();
    return super.listSessions();
  }

  override async listUnfinishedSessions(): Promise<string[]> {
    this.assertOpen();
    return super.listUnfinishedSessions();
  }

  override async listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    return super.listFinishedBefore(finishedBeforeUnixMs, limit);
  }

  override async removeSessions(sessionIds: readonly string[]): Promise<void> {
    this.assertOpen();
    await super.removeSessions(sessionIds);
  }

  override async usage(): Promise<StorageUsage> {
    this.assertOpen();
    return super.usage();
  }

  override async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    validateSnapshot(snapshot);
    await super.writeSnapshot(sessionId, snapshot);
  }

  override async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    return super.loadSnapshot(sessionId);
  }

  override async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.assertOpen();
    await super.saveRegistry(kind, document);
  }

  override async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    this.assertOpen();
    return super.loadRegistry(kind);
  }

  override async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw storageFailed("memory store is closed");
  }
}
