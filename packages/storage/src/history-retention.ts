import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import type { LogEntry, SessionStore, StoredSnapshot } from "@macp/core";
import { storageFailed } from "./storage-error.js";

/** What {@link retireFinishedSessions} should remove, and how. */
export interface RetentionOptions {
  /** Finished sessions that finished before this are removed. */
  readonly finishedBeforeUnixMs: number;
  /** Sessions listed and removed per round (default 1000): bounds each Postgres delete. */
  readonly batch?: number;
  /** Stop after this many sessions (default: no limit). */
  readonly maxSessions?: number;
  /** Append each session (snapshot and whole log) as a JSON line to a file here before removing it. */
  readonly archiveDir?: string;
  /** Only count what would be removed (up to `maxSessions`, default 1000). */
  readonly dryRun?: boolean;
  /** Called with each batch just before it is removed (the runtime drops them from memory). */
  readonly beforeRemove?: (sessionIds: readonly string[]) => Promise<void>;
  /** Clock of the archive file's name (default `Date.now`). */
  readonly now?: () => number;
}

/** What a retention pass did (or, dry, would do). */
export interface RetentionReport {
  /** Sessions removed (dry run: that would be). */
  readonly sessions: number;
  /** The first ids concerned (at most 20), for messages. */
  readonly sample: readonly string[];
  /** The archive file written to, when archiving. */
  readonly archiveFile?: string;
}

const DEFAULT_BATCH = 1000;

/**
 * Removes the history of sessions that finished before a cutoff, in bounded batches, optionally
 * archiving each to JSONL first (the archive line is fsync'ed before the session is removed, so
 * a crash never loses a session that was neither archived nor kept).
 */
export async function retireFinishedSessions(store: SessionStore, options: RetentionOptions): Promise<RetentionReport> {
  const batch = options.batch ?? DEFAULT_BATCH;
  const max = options.maxSessions ?? (options.dryRun ? DEFAULT_BATCH : Number.MAX_SAFE_INTEGER);
  const sample: string[] = [];
  if (options.dryRun) {
    const ids = await store.listFinishedBefore(options.finishedBeforeUnixMs, max);
    return { sessions: ids.length, sample: ids.slice(0, 20) };
  }
  const archiveFile =
    options.archiveDir === undefined
      ? undefined
      : join(options.archiveDir, `macp-archive-${new Date((options.now ?? Date.now)()).toISOString().slice(0, 10)}.jsonl`);
  if (options.archiveDir !== undefined) await mkdir(options.archiveDir, { recursive: true });
  let removed = 0;
  while (removed < max) {
    const ids = await store.listFinishedBefore(options.finishedBeforeUnixMs, Math.min(batch, max - removed));
    if (ids.length === 0) break;
    if (archiveFile !== undefined) await archive(store, ids, archiveFile);
    await options.beforeRemove?.(ids);
    await store.removeSessions(ids);
    removed += ids.length;
    sample.push(...ids.slice(0, 20 - sample.length));
    if (ids.length < batch) break;
  }
  return { sessions: removed, sample, ...(archiveFile === undefined ? {} : { archiveFile }) };
}

/** One archive line: a session's latest snapshot and whole log, payloads base64. */
export function archiveLine(sessionId: string, snapshot: StoredSnapshot | undefined, log: readonly LogEntry[]): string {
  return JSON.stringify({
    session_id: sessionId,
    snapshot:
      snapshot === undefined
        ? null
        : { log_length: snapshot.logLength, finished_at_unix_ms: snapshot.finishedAtUnixMs ?? null, state: snapshot.state },
    log: log.map((entry) => ({
      kind: entry.kind,
      seq: entry.seq,
      mode: entry.mode,
      message_type: entry.messageType,
      message_id: entry.messageId,
      sender: entry.sender,
      macp_version: entry.macpVersion,
      timestamp_unix_ms: entry.timestampUnixMs.toString(),
      received_at_unix_ms: entry.receivedAtUnixMs,
      payload_base64: Buffer.from(entry.payload).toString("base64"),
    })),
  });
}

async function archive(store: SessionStore, sessionIds: readonly string[], file: string): Promise<void> {
  const lines: string[] = [];
  for (const sessionId of sessionIds) {
    lines.push(archiveLine(sessionId, await store.loadSnapshot(sessionId), await store.loadLog(sessionId)));
  }
  let handle;
  try {
    handle = await open(file, "a");
    await handle.appendFile(`${lines.join("\n")}\n`);
    await handle.datasync();
  } catch (error) {
    throw storageFailed(`cannot archive to ${file}`, error);
  } finally {
    await handle?.close();
  }
}
