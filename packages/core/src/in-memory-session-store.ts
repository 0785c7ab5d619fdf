import type { LogEntry, RegistryKind, SessionStore, StoredSnapshot } from "./session-store.js";

/** A SessionStore that keeps everything in process memory: durable only for the process's life. */
export class InMemorySessionStore implements SessionStore {
  private readonly logs = new Map<string, LogEntry[]>();
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private readonly registries = new Map<RegistryKind, string>();

  async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    let log = this.logs.get(sessionId);
    if (!log) {
      log = [];
      this.logs.set(sessionId, log);
    }
    log.push(...entries);
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    return [...(this.logs.get(sessionId) ?? [])];
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    const log = this.logs.get(sessionId) ?? [];
    return log.filter((entry) => entry.kind === "incoming" && entry.seq > afterSeq);
  }

  async listSessions(): Promise<string[]> {
    return [...this.logs.keys()];
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.snapshots.set(sessionId, snapshot);
  }

  async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    return this.snapshots.get(sessionId);
  }

  async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.registries.set(kind, document);
  }

  async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    return this.registries.get(kind);
  }

  async close(): Promise<void> {}
}
