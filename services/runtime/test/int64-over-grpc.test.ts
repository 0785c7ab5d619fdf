import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { buildEnvelope } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { databaseUrl } from "@macp/test-support";
import { INT64_MAX, INT64_MIN, ModeId, UINT64_MAX, decodePayload, encodePayload } from "@macp/protocol";
import type { Envelope, StreamSessionResponse } from "@macp/protocol";
import { StreamReader, ackCode, newSessionId, sendAck, sessionStart, startTestRuntime } from "./support/runtime-harness.js";
import type { TestRuntime } from "./support/runtime-harness.js";

/**
 * int64 values as the reference accepts them, over real gRPC: SDKs send i64::MAX as a TaskRequest
 * `deadline_unix_ms` meaning "no deadline", and clients may stamp envelopes with any int64.
 */

const ALICE = "agent://alice";
const BOB = "agent://bob";
const DATABASE_URL = databaseUrl();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function runtimeOn(env: Record<string, string>): Promise<TestRuntime> {
  const runtime = await startTestRuntime(env);
  cleanups.push(() => runtime.close());
  return runtime;
}

/** A task session started by alice, its SessionStart stamped `timestamp`. */
function taskStart(sessionId: string, timestamp: bigint): Envelope {
  return sessionStart({ mode: ModeId.Task, sessionId, participants: [ALICE, BOB], timestampUnixMs: timestamp });
}

/** A TaskRequest with deadline i64::MAX ("no deadline"), stamped `timestamp`. */
function taskRequest(sessionId: string, timestamp: bigint): Envelope {
  return buildEnvelope({
    mode: ModeId.Task,
    sessionId,
    messageType: "TaskRequest",
    messageId: "m1",
    timestampUnixMs: timestamp,
    payload: encodePayload(ModeId.Task, "TaskRequest", { taskId: "t1", title: "Build", deadlineUnixMs: INT64_MAX }),
  });
}

/** Subscribes passively and returns the reader of that stream. */
function subscribe(client: MacpClient, sessionId: string, afterSequence: number | bigint, label: string): StreamReader<StreamSessionResponse> {
  const stream = client.streamSession();
  stream.subscribe(sessionId, afterSequence);
  cleanups.push(async () => stream.end());
  return new StreamReader(stream, label);
}

function envelopeOf(frame: StreamSessionResponse): Envelope {
  if (frame.response?.$case !== "envelope") throw new Error(`expected an envelope frame, got ${frame.response?.$case}`);
  return frame.response.value;
}

/** What a reader learns of the TaskRequest: its timestamp and the deadline in its payload. */
function readBack(envelope: Envelope): { messageId: string; timestamp: bigint; deadline: bigint } {
  const payload = decodePayload(ModeId.Task, "TaskRequest", envelope.payload) as { deadlineUnixMs: bigint };
  return { messageId: envelope.messageId, timestamp: envelope.timestampUnixMs, deadline: payload.deadlineUnixMs };
}

const SENT = { messageId: "m1", timestamp: INT64_MAX, deadline: INT64_MAX };

describe("int64 values over gRPC", () => {
  it("delivers a TaskRequest deadline of i64::MAX unchanged to a live passive subscriber, to a late one and in GetSession", async () => {
    const runtime = await runtimeOn({});
    const alice = runtime.client(ALICE);
    const bob = runtime.client(BOB);
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(alice, taskStart(sessionId, INT64_MAX)))).toBe("ok");
    const live = subscribe(bob, sessionId, 0, "bob's live stream");
    expect(envelopeOf(await live.next("the SessionStart")).timestampUnixMs).toBe(INT64_MAX);

    expect(ackCode(await sendAck(alice, taskRequest(sessionId, INT64_MAX)))).toBe("ok");

    expect(readBack(envelopeOf(await live.next("the TaskRequest")))).toEqual(SENT);
    const late = subscribe(alice, sessionId, 1, "alice's late stream");
    expect(readBack(envelopeOf(await late.next("the TaskRequest from history")))).toEqual(SENT);
    // The deadline of a session stamped i64::MAX saturates there, as in the reference.
    const { metadata } = await alice.getSession({ sessionId });
    expect(metadata?.expiresAtUnixMs).toBe(INT64_MAX);
    const { sessions } = await alice.listSessions();
    expect(sessions.find((session) => session.sessionId === sessionId)?.expiresAtUnixMs).toBe(INT64_MAX);
  });

  it("keeps a negative timestamp (i64::MIN) and bases the deadline on the receive time", async () => {
    const runtime = await runtimeOn({});
    const alice = runtime.client(ALICE);
    const sessionId = newSessionId();
    const before = BigInt(Date.now());
    expect(ackCode(await sendAck(alice, taskStart(sessionId, INT64_MIN)))).toBe("ok");
    const reader = subscribe(alice, sessionId, 0, "alice's stream");
    expect(envelopeOf(await reader.next("the SessionStart")).timestampUnixMs).toBe(INT64_MIN);
    const { metadata } = await alice.getSession({ sessionId });
    expect(metadata?.expiresAtUnixMs).toBeGreaterThanOrEqual(before + 60_000n);
    expect(metadata?.expiresAtUnixMs).toBeLessThanOrEqual(BigInt(Date.now()) + 60_000n);
  });

  it("replays nothing for after_sequence = u64::MAX but still streams live envelopes", async () => {
    const runtime = await runtimeOn({});
    const alice = runtime.client(ALICE);
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(alice, taskStart(sessionId, 0n)))).toBe("ok");
    const reader = subscribe(alice, sessionId, UINT64_MAX, "alice's stream");
    // Sent after the subscription: the first frame must be this live envelope, not the SessionStart.
    expect(ackCode(await sendAck(alice, taskRequest(sessionId, INT64_MAX)))).toBe("ok");
    expect(readBack(envelopeOf(await reader.next("the live TaskRequest")))).toEqual(SENT);
  });

  describe.each([
    [
      "the file backend",
      async (): Promise<Record<string, string>> => {
        const path = await mkdtemp(join(tmpdir(), "macp-int64-"));
        cleanups.push(() => rm(path, { recursive: true, force: true }));
        return { MACP_MEMORY_ONLY: "", MACP_DATA_DIR: path };
      },
    ],
    [
      "Postgres",
      async (): Promise<Record<string, string>> => {
        const schema = `int64_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
        cleanups.push(async () => {
          const client = new pg.Client({ connectionString: DATABASE_URL });
          await client.connect();
          await client.query(`drop schema if exists ${schema} cascade`);
          await client.end();
        });
        return { MACP_MEMORY_ONLY: "", MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: DATABASE_URL, MACP_DATABASE_SCHEMA: schema };
      },
    ],
  ])("after a restart on %s", (_name, storage) => {
    it("reads the i64::MAX deadline and timestamps back unchanged from the recovered history", async () => {
      const env = await storage();
      const sessionId = newSessionId();
      const first = await startTestRuntime(env);
      try {
        const alice = first.client(ALICE);
        expect(ackCode(await sendAck(alice, taskStart(sessionId, INT64_MAX)))).toBe("ok");
        expect(ackCode(await sendAck(alice, taskRequest(sessionId, INT64_MAX)))).toBe("ok");
      } finally {
        await first.close();
      }

      const second = await runtimeOn(env);
      const bob = second.client(BOB);
      const history = await subscribe(bob, sessionId, 0, "bob's stream after restart").take(2, "the recovered history");
      expect(envelopeOf(history[0]!).timestampUnixMs).toBe(INT64_MAX);
      expect(readBack(envelopeOf(history[1]!))).toEqual(SENT);
      expect((await bob.getSession({ sessionId })).metadata?.expiresAtUnixMs).toBe(INT64_MAX);
    });
  });
});
