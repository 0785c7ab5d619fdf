import { status } from "@grpc/grpc-js";
import { MacpClientError, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { historyLine } from "@macp/replay";
import { SessionState, int64ToJson } from "@macp/protocol";
import type { SessionMetadata } from "@macp/protocol";
import { CliError } from "./session-source.js";
import type { HistoryRecord, SessionRow, SessionSource } from "./session-source.js";

/** How to reach a running daemon. */
export interface DaemonLocation {
  readonly address: string;
  /** Bearer credential (in a development-mode daemon, the sender name). */
  readonly token: string;
  readonly tls: boolean;
  /** Deadline of each unary call. */
  readonly deadlineMs: number;
}

/** Reads sessions from a running daemon over gRPC. */
export function daemonSource(location: DaemonLocation): SessionSource {
  const client = createMacpClient({
    address: location.address,
    auth: { bearer: location.token },
    tls: location.tls,
    defaultDeadlineMs: location.deadlineMs,
  });
  const description = `daemon at ${location.address}`;
  return {
    description,

    listSessions: () =>
      calling(description, async () => {
        const { sessions } = await client.listSessions();
        return sessions.map(rowOf).sort((a, b) => a.sessionId.localeCompare(b.sessionId));
      }),

    getSession: (sessionId) =>
      calling(description, async () => {
        const metadata = await orUndefined(client.getSession({ sessionId }));
        return metadata?.metadata === undefined ? undefined : metadataJson(metadata.metadata);
      }),

    history: async (sessionId, options) => {
      if (options.includeInternal) {
        throw new CliError("runtime-internal records are not on the wire: read them from the data directory", 2);
      }
      return calling(description, () => streamHistory(client, sessionId));
    },

    close: async () => client.close(),
  };
}

/**
 * A passive subscription from the start, half-closed at once: the daemon replays the history up
 * to the last accepted envelope and then ends the stream (protocol.md §4.3), which is exactly
 * "until caught up". Sequences are dense from 1, so the n-th envelope has sequence n.
 */
async function streamHistory(client: MacpClient, sessionId: string): Promise<HistoryRecord[] | undefined> {
  const stream = client.streamSession();
  stream.subscribe(sessionId, 0);
  stream.end();
  const records: HistoryRecord[] = [];
  try {
    for await (const frame of stream) {
      const response = frame.response;
      if (response?.$case === "error") throw new CliError(`${response.value.code}: ${response.value.message}`);
      if (response?.$case !== "envelope") continue;
      records.push(historyLine(response.value, records.length + 1, "incoming"));
    }
  } catch (error) {
    if (error instanceof MacpClientError && error.grpcCode === status.NOT_FOUND) return undefined;
    throw error;
  }
  return records;
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof MacpClientError && error.grpcCode === status.NOT_FOUND) return undefined;
    throw error;
  }
}

/** Runs a daemon call, turning transport and authorization failures into readable errors. */
async function calling<T>(description: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof MacpClientError)) throw error;
    if (error.grpcCode === status.UNAVAILABLE || error.grpcCode === status.DEADLINE_EXCEEDED) {
      throw new CliError(`cannot reach the ${description}: ${error.details}`);
    }
    throw new CliError(`the ${description} refused: ${error.message}`);
  }
}

function statusName(state: SessionState): string {
  const name = SessionState[state] ?? "SESSION_STATE_UNSPECIFIED";
  const word = name.replace(/^SESSION_STATE_/, "").toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function rowOf(metadata: SessionMetadata): SessionRow {
  return {
    sessionId: metadata.sessionId,
    mode: metadata.mode,
    status: statusName(metadata.state),
    initiator: metadata.initiator,
    participants: metadata.participants,
    startedAtUnixMs: int64ToJson(metadata.startedAtUnixMs),
    expiresAtUnixMs: int64ToJson(metadata.expiresAtUnixMs),
    acceptedMessages: undefined,
    error: undefined,
  };
}

/** GetSession's metadata as plain JSON, with the state by name. */
function metadataJson(metadata: SessionMetadata): Record<string, unknown> {
  return {
    sessionId: metadata.sessionId,
    mode: metadata.mode,
    status: statusName(metadata.state),
    initiator: metadata.initiator,
    participants: metadata.participants,
    modeVersion: metadata.modeVersion,
    configurationVersion: metadata.configurationVersion,
    policyVersion: metadata.policyVersion,
    contextId: metadata.contextId,
    startedAtUnixMs: int64ToJson(metadata.startedAtUnixMs),
    expiresAtUnixMs: int64ToJson(metadata.expiresAtUnixMs),
    extensionKeys: metadata.extensionKeys,
    participantActivity: metadata.participantActivity.map((activity) => ({
      participantId: activity.participantId,
      messageCount: activity.messageCount,
      lastMessageAtUnixMs: int64ToJson(activity.lastMessageAtUnixMs),
    })),
  };
}
