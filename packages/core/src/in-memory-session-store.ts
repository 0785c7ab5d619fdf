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
    // Copies, so a caller can never alter stored history through a buffer it still holds.
    for (const entry of entries) log.push({ ...entry, payload: entry.payload.slice() });
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    return [...(this.logs.get(sessionId) ?? [])];
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    const log = this.logs.get(sessionId) ?? [];
    return log.filter((entry) => entry.kind === "incoming" && entry.seq > afterSeq);
  }

  async listSessions(): Promise<string[]> {
    return [...new Set([...this.logs.keys(), ...this.snapshots.keys()])];
  }

  async listUnfinishedSessions(): Promise<string[]> {
    return (await this.listSessions()).filter((sessionId) => {
      const snapshot = this.snapshots.get(sessionId);
      return snapshot?.finishedAtUnixMs === undefined || snapshot.logLength !== (this.logs.get(sessionId)?.length ?? 0);
    });
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    const { logLength, state, finishedAtUnixMs } = snapshot;
    this.snapshots.set(sessionId, finishedAtUnixMs === undefined ? { logLength, state } : { logLength, state, finishedAtUnixMs });
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
