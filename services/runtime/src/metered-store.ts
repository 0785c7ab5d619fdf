import type { AppendNote, LogEntry, SessionStore } from "@macp/core";
import type { Histogram } from "prom-client";
import { inSpan } from "./tracing.js";

/**
 * The kernel's store with each append timed and traced: the durable-append latency an operator
 * compares with the Send latency, whatever the backend.
 */
export function meteredStore(store: SessionStore, appendDuration: Histogram): SessionStore {
  return {
    async append(sessionId: string, entries: readonly LogEntry[], note?: AppendNote): Promise<void> {
      const stop = appendDuration.startTimer();
      try {
        await inSpan("macp.storage.append", () => store.append(sessionId, entries, note));
      } finally {
        stop();
      }
    },
    ...(store.isCurrent ? { isCurrent: (sessionId: string) => (store.isCurrent as (id: string) => Promise<boolean>).call(store, sessionId) } : {}),
    loadLog: (sessionId) => store.loadLog(sessionId),
    loadLogAfter: (sessionId, afterSeq) => store.loadLogAfter(sessionId, afterSeq),
    listSessions: () => store.listSessions(),
    listUnfinishedSessions: () => store.listUnfinishedSessions(),
    listFinishedBefore: (before, limit) => store.listFinishedBefore(before, limit),
    removeSessions: (sessionIds) => store.removeSessions(sessionIds),
    usage: () => store.usage(),
    writeSnapshot: (sessionId, snapshot) => store.writeSnapshot(sessionId, snapshot),
    loadSnapshot: (sessionId) => store.loadSnapshot(sessionId),
    saveRegistry: (kind, document) => store.saveRegistry(kind, document),
    loadRegistry: (kind) => store.loadRegistry(kind),
    close: () => store.close(),
  };
}
