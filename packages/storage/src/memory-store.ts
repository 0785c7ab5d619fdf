import type { LogEntry, RegistryKind, SessionStore, StoredSnapshot } from "@macp/core";
import { storageFailed } from "./storage-error.js";
import { validateEntries, validateSnapshot } from "./validate-input.js";

/**
 * Keeps everything in process memory: nothing survives the process. Used when
 * `MACP_MEMORY_ONLY=1` and by tests. Payloads are copied on append so callers cannot alter
 * stored history through a buffer they still hold.
 */
export class MemoryStore implements SessionStore {
  private readonly logs = new Map<string, LogEntry[]>();
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private readonly registries = new Map<RegistryKind, string>();
  private closed = false;

  async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(sessionId, entries);
    if (entries.length === 0) return;
    let log = this.logs.get(sessionId);
    if (log === undefined) {
      log = [];
      this.logs.set(sessionId, log);
    }
    for (const entry of entries) log.push({ ...entry, payload: entry.payload.slice() });
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    this.assertOpen();
    return [...(this.logs.get(sessionId) ?? [])];
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    this.assertOpen();
    return (this.logs.get(sessionId) ?? []).filter((entry) => entry.kind === "incoming" && entry.seq > afterSeq);
  }

  async listSessions(): Promise<string[]> {
    this.assertOpen();
    return [...new Set([...this.logs.keys(), ...this.snapshots.keys()])];
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    validateSnapshot(snapshot);
    this.snapshots.set(sessionId, { logLength: snapshot.logLength, state: snapshot.state });
  }

  async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    return this.snapshots.get(sessionId);
  }

  async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.assertOpen();
    this.registries.set(kind, document);
  }

  async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    this.assertOpen();
    return this.registries.get(kind);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw storageFailed("memory store is closed");
  }
}
