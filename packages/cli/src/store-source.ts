import { existsSync } from "node:fs";
import type { SessionStore } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { historyLines, rebuildSession, summarizeSession, verifySession } from "@macp/replay";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { archiveLine, createStore, retireFinishedSessions } from "@macp/storage";
import type { StorageLogger } from "@macp/storage";
import { CliError } from "./session-source.js";
import type { HistoryRecord, SessionRow, SessionSource } from "./session-source.js";

/** Where stored sessions live. */
export type StoreLocation =
  | { readonly backend: "file"; readonly dataDir: string }
  | { readonly backend: "postgres"; readonly databaseUrl: string };

/**
 * Opens a data directory or database for reading. The file backend locks its directory and
 * repairs a torn log tail when it opens, so the directory of a running daemon is refused (the
 * error names the owning process): read a live daemon with `--address`.
 */
export async function openStoreSource(location: StoreLocation, logger: StorageLogger): Promise<SessionSource> {
  if (location.backend === "file" && !existsSync(location.dataDir)) {
    // Opening would create an empty store; a mistyped path should say so instead.
    throw new CliError(`data directory ${location.dataDir} does not exist`);
  }
  const store =
    location.backend === "file"
      ? await createStore({ backend: "file", dataDir: location.dataDir, logger })
      : await createStore({ backend: "postgres", databaseUrl: location.databaseUrl, logger });
  return storeSource(store, location.backend === "file" ? location.dataDir : "postgres database");
}

/** Reads sessions by replaying their stored logs, with the extension modes the store registered. */
export async function storeSource(store: SessionStore, description: string): Promise<SessionSource> {
  const modes = new ModeRegistry();
  const registered = await store.loadRegistry("modes");
  if (registered !== undefined) modes.restore(JSON.parse(registered));

  const known = async (sessionId: string): Promise<boolean> => (await store.loadLog(sessionId)).length > 0;

  const diskBytes = async (): Promise<number> => {
    const usage = await store.usage();
    return usage.logBytes + usage.snapshotBytes;
  };

  return {
    description,

    async retire({ olderThanMs, apply, archiveDir }) {
      const bytesBefore = await diskBytes();
      const report = await retireFinishedSessions(store, {
        finishedBeforeUnixMs: Date.now() - olderThanMs,
        dryRun: !apply,
        ...(apply ? {} : { maxSessions: Number.MAX_SAFE_INTEGER }),
        ...(archiveDir === undefined ? {} : { archiveDir }),
      });
      // The file backend reclaims segments in the background: wait so the figure is final.
      const compacted = (store as { compacted?: () => Promise<unknown> }).compacted;
      if (apply && compacted !== undefined) await compacted.call(store);
      return { sessions: report.sessions, sample: report.sample, archiveFile: report.archiveFile, bytesBefore, bytesAfter: await diskBytes() };
    },

    async archive(olderThanMs, archiveDir) {
      const ids = await store.listFinishedBefore(Date.now() - olderThanMs, Number.MAX_SAFE_INTEGER);
      if (ids.length === 0) return { sessions: 0, file: undefined };
      await mkdir(archiveDir, { recursive: true });
      const file = join(archiveDir, `macp-archive-${new Date().toISOString().slice(0, 10)}.jsonl`);
      const handle = await open(file, "a");
      try {
        for (const id of ids) await handle.appendFile(`${archiveLine(id, await store.loadSnapshot(id), await store.loadLog(id))}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      return { sessions: ids.length, file };
    },

    async listSessions(): Promise<SessionRow[]> {
      const rows: SessionRow[] = [];
      for (const sessionId of (await store.listSessions()).sort()) {
        try {
          const { state } = await rebuildSession(store, modes, sessionId);
          const summary = summarizeSession(state);
          rows.push({
            sessionId,
            mode: summary.mode,
            status: summary.status,
            initiator: summary.initiator,
            participants: summary.participants,
            startedAtUnixMs: summary.startedAtUnixMs,
            expiresAtUnixMs: summary.expiresAtUnixMs,
            acceptedMessages: summary.acceptedMessages,
            error: undefined,
          });
        } catch (error) {
          rows.push(unrecoverable(sessionId, (await store.loadLog(sessionId))[0]?.mode ?? "", error));
        }
      }
      return rows;
    },

    async getSession(sessionId) {
      if (!(await known(sessionId))) return undefined;
      try {
        const { state, fromSnapshot } = await rebuildSession(store, modes, sessionId);
        return { ...summarizeSession(state), rebuiltFrom: fromSnapshot ? "snapshot and log tail" : "full log" };
      } catch (error) {
        throw new CliError(`session ${sessionId} does not replay: ${error instanceof Error ? error.message : String(error)}`);
      }
    },

    async history(sessionId, options): Promise<HistoryRecord[] | undefined> {
      const log = await store.loadLog(sessionId);
      if (log.length === 0) return undefined;
      return historyLines(log, options);
    },

    async verify(sessionIds) {
      const ids = sessionIds.length > 0 ? sessionIds : (await store.listSessions()).sort();
      const results = [];
      for (const sessionId of ids) {
        if (!(await known(sessionId))) throw new CliError(`session ${sessionId} not found in ${description}`);
        results.push(await verifySession(store, modes, sessionId));
      }
      return results;
    },

    close: () => store.close(),
  };
}

function unrecoverable(sessionId: string, mode: string, error: unknown): SessionRow {
  return {
    sessionId,
    mode,
    status: "Unrecoverable",
    initiator: "",
    participants: [],
    startedAtUnixMs: 0,
    expiresAtUnixMs: 0,
    acceptedMessages: undefined,
    error: error instanceof Error ? error.message : String(error),
  };
}
