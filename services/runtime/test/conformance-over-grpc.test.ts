import { buildEnvelope } from "@macp/client";
import type { MacpClient, SessionStream } from "@macp/client";
import { PROTOCOL_VERSION, SessionState, encodePayloadJson } from "@macp/protocol";
import { conformanceVectorFiles, readConformanceVector } from "@macp/test-support";
import type { Envelope, StreamSessionResponse } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  StreamReader,
  ackCode,
  newSessionId,
  sendAck,
  sessionStart,
  startTestRuntime,
  type TestRuntime,
} from "./support/runtime-harness.js";


interface VectorMessage {
  readonly sender: string;
  readonly message_type: string;
  readonly payload: Record<string, unknown>;
  readonly expect: "accept" | "reject";
  readonly expected_error_code?: string;
}

interface Vector {
  readonly mode: string;
  readonly initiator: string;
  readonly participants: string[];
  readonly mode_version: string;
  readonly configuration_version: string;
  readonly policy_version: string;
  readonly ttl_ms: number;
  readonly policy?: { policy_id: string; mode: string; description?: string; rules: unknown; schema_version: number };
  readonly messages: VectorMessage[];
  readonly expected_final_state: "Open" | "Resolved" | "Expired" | "Cancelled";
}

/** The canonical vectors, from the repository's copy (never edited). */
const FILES = conformanceVectorFiles();

function load(file: string): Vector {
  return readConformanceVector<Vector>(file);
}

/**
 * Codes the reference returns where a vector says `reject` without naming one
 * (modes-and-policy.md §15.2 "implied"), keyed by file and 1-based message index.
 */
const IMPLIED_CODES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  "task_reject_paths.json": { 1: "FORBIDDEN", 3: "INVALID_ENVELOPE" },
  "quorum_reject_paths.json": { 1: "INVALID_ENVELOPE", 4: "INVALID_ENVELOPE" },
  "multi_round_reject_paths.json": { 1: "INVALID_ENVELOPE", 4: "FORBIDDEN" },
};

function expectedCode(file: string, index: number, message: VectorMessage): string {
  if (message.expect === "accept") return "ok";
  return message.expected_error_code ?? IMPLIED_CODES[file]?.[index] ?? "<a rejection>";
}

const FINAL_STATE: Record<Vector["expected_final_state"], SessionState> = {
  Open: SessionState.SESSION_STATE_OPEN,
  Resolved: SessionState.SESSION_STATE_RESOLVED,
  Expired: SessionState.SESSION_STATE_EXPIRED,
  Cancelled: SessionState.SESSION_STATE_CANCELLED,
};

/** The harness contract of §15.1: `m0` SessionStart from the initiator, then `m<i>` as listed. */
function startOf(vector: Vector, sessionId: string): Envelope {
  return sessionStart({
    mode: vector.mode,
    sessionId,
    participants: vector.participants,
    timestampUnixMs: Date.now(),
    payload: {
      intent: "conformance",
      modeVersion: vector.mode_version,
      configurationVersion: vector.configuration_version,
      policyVersion: vector.policy_version,
      ttlMs: BigInt(vector.ttl_ms),
    },
  });
}

function envelopeOf(vector: Vector, sessionId: string, index: number, message: VectorMessage): Envelope {
  // §15.1: a Commitment's outcome_positive defaults to true.
  const json =
    message.message_type === "Commitment" && !("outcome_positive" in message.payload)
      ? { ...message.payload, outcome_positive: true }
      : message.payload;
  return buildEnvelope({
    mode: vector.mode,
    sessionId,
    messageType: message.message_type,
    messageId: `m${index}`,
    payload: encodePayloadJson(vector.mode, message.message_type, json),
    timestampUnixMs: Date.now(),
  });
}

async function registerPolicy(runtime: TestRuntime, vector: Vector): Promise<void> {
  if (!vector.policy) return;
  const result = await runtime.client("conformance-admin").registerPolicy({
    policyDescriptor: {
      policyId: vector.policy.policy_id,
      mode: vector.policy.mode,
      description: vector.policy.description ?? "",
      rules: JSON.stringify(vector.policy.rules),
      schemaVersion: vector.policy.schema_version,
      registeredAtUnixMs: 0n,
    },
  });
  expect(result.error).toBe("");
}

it("finds conformance vectors to run", () => {
  expect(FILES.length).toBeGreaterThan(0);
});

describe("conformance vectors over unary Send", () => {
  let runtime: TestRuntime;
  const clients = new Map<string, MacpClient>();
  const as = (sender: string): MacpClient => {
    let client = clients.get(sender);
    if (!client) {
      client = runtime.client(sender);
      clients.set(sender, client);
    }
    return client;
  };

  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(() => runtime.close());

  it.each(FILES)("%s: every Ack and the final session state match", async (file) => {
    const vector = load(file);
    await registerPolicy(runtime, vector);
    const sessionId = newSessionId();
    const start = await sendAck(as(vector.initiator), startOf(vector, sessionId));
    expect(ackCode(start), "SessionStart").toBe("ok");
    expect(start.sessionState).toBe(SessionState.SESSION_STATE_OPEN);

    const actual: string[] = [];
    const expected: string[] = [];
    for (const [offset, message] of vector.messages.entries()) {
      const index = offset + 1;
      const ack = await sendAck(as(message.sender), envelopeOf(vector, sessionId, index, message));
      const label = `m${index} ${message.message_type} from ${message.sender}`;
      const want = expectedCode(file, index, message);
      actual.push(`${label}: ${want === "<a rejection>" && !ack.ok ? want : ackCode(ack)}`);
      expected.push(`${label}: ${want}`);
      expect(ack.messageId).toBe(`m${index}`);
      expect(ack.sessionId).toBe(sessionId);
      if (!ack.ok) expect(ack.sessionState).toBe(SessionState.SESSION_STATE_UNSPECIFIED);
    }
    expect(actual).toEqual(expected);

    const { metadata } = await as(vector.initiator).getSession({ sessionId });
    expect(metadata?.state).toBe(FINAL_STATE[vector.expected_final_state]);
    expect(metadata).toMatchObject({
      sessionId,
      mode: vector.mode,
      initiator: vector.initiator,
      participants: vector.participants,
      modeVersion: vector.mode_version,
      configurationVersion: vector.configuration_version,
      policyVersion: vector.policy_version === "" ? "policy.default" : vector.policy_version,
    });
  });
});

/**
 * The same scripts over StreamSession: each sender speaks on a stream of its own, and every
 * stream of a reader of the session must see exactly the accepted envelopes (with the
 * authenticated sender filled in) in order, while a rejection comes back inline, only to its
 * sender, with the registry code (project decision 7). An outsider's stream sees nothing else.
 */
describe("conformance vectors over StreamSession envelope frames", () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(() => runtime.close());

  it.each(FILES)("%s: echoes and inline errors match on every bound stream", async (file) => {
    const vector = load(file);
    await registerPolicy(runtime, vector);
    const sessionId = newSessionId();
    const streams = new Map<string, { stream: SessionStream; reader: StreamReader<StreamSessionResponse> }>();
    const streamOf = (sender: string) => {
      let entry = streams.get(sender);
      if (!entry) {
        const stream = runtime.client(sender).streamSession();
        entry = { stream, reader: new StreamReader(stream, `${file} stream of ${sender}`) };
        streams.set(sender, entry);
      }
      return entry;
    };

    const sent: Envelope[] = [startOf(vector, sessionId)];
    const start = streamOf(vector.initiator);
    start.stream.send(sent[0] as Envelope);
    const readers = new Set([vector.initiator]);
    expectEcho(await start.reader.next("the SessionStart echo"), sent[0] as Envelope, vector.initiator);

    for (const [offset, message] of vector.messages.entries()) {
      const index = offset + 1;
      const label = `m${index} ${message.message_type} from ${message.sender}`;
      const envelope = envelopeOf(vector, sessionId, index, message);
      const own = streamOf(message.sender);
      own.stream.send(envelope);
      // A stream binds to the session on its first envelope frame, whatever the verdict, but only
      // shows the session to those who may read it: the initiator, declared participants, and
      // senders who have had an envelope accepted there.
      if (message.expect === "accept" || vector.participants.includes(message.sender)) readers.add(message.sender);
      if (message.expect === "accept") {
        for (const sender of readers) {
          expectEcho(await streamOf(sender).reader.next(`${label} echoed to ${sender}`), envelope, message.sender);
        }
      } else {
        const frame = await own.reader.next(`the inline error for ${label}`);
        expect(frame.response?.$case, label).toBe("error");
        if (frame.response?.$case !== "error") continue;
        const want = expectedCode(file, index, message);
        if (want !== "<a rejection>") expect(frame.response.value.code, label).toBe(want);
        expect(frame.response.value.sessionId, label).toBe(sessionId);
        expect(frame.response.value.message, label).not.toBe("");
      }
    }

    // Half-close: each stream ends with OK and nothing unexpected was still queued.
    for (const [sender, { stream, reader }] of streams) {
      stream.end();
      expect(await reader.end(`the end of ${sender}'s stream`)).toEqual({ status: "OK", details: "" });
    }
    const { metadata } = await runtime.client(vector.initiator).getSession({ sessionId });
    expect(metadata?.state).toBe(FINAL_STATE[vector.expected_final_state]);
  });
});

function expectEcho(frame: StreamSessionResponse, sent: Envelope, sender: string): void {
  expect(frame.response?.$case, `echo of ${sent.messageId}`).toBe("envelope");
  if (frame.response?.$case !== "envelope") return;
  const echoed = frame.response.value;
  expect({ ...echoed, payload: Buffer.from(echoed.payload).toString("hex") }).toEqual({
    ...sent,
    macpVersion: PROTOCOL_VERSION,
    sender,
    payload: Buffer.from(sent.payload).toString("hex"),
  });
}
