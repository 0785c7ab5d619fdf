import type { LogEntry, RegistryKind, SessionStore, StorageUsage, StoredSnapshot } from "./session-store.js";

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

  async listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (const [sessionId, snapshot] of this.snapshots) {
      if (ids.length >= limit) break;
      const finished = snapshot.finishedAtUnixMs;
      if (finished !== undefined && finished < finishedBeforeUnixMs && snapshot.logLength === (this.logs.get(sessionId)?.length ?? 0)) {
        ids.push(sessionId);
      }
    }
    return ids;
  }

  async removeSessions(sessionIds: readonly string[]): Promise<void> {
    for (const sessionId of sessionIds) {
      this.logs.delete(sessionId);
      this.snapshots.delete(sessionId);
    }
  }

  async usage(): Promise<StorageUsage> {
    let logBytes = 0;
    for (const log of this.logs.values()) for (const entry of log) logBytes += entry.payload.byteLength + 64;
    let snapshotBytes = 0;
    for (const snapshot of this.snapshots.values()) snapshotBytes += snapshot.state.length;
    const finished = (await this.listFinishedBefore(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).length;
    return { logBytes, snapshotBytes, indexBytes: 0, finishedSessions: finished, unfinishedSessions: (await this.listUnfinishedSessions()).length };
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
