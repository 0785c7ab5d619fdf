import { afterAll, afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { MacpClient } from "@macp/client";
import { ModeId, SessionLifecycleEvent_EventType as EventType } from "@macp/protocol";
import type { PolicyDescriptor } from "@macp/protocol";
import { jetStreamNames } from "@macp/storage";
import { natsUrl, uniqueName } from "@macp/test-support";
import {
  StreamReader,
  ackCode,
  commitment,
  newSessionId,
  openDecisionSession,
  proposal,
  sendAck,
  sessionStart,
  startTestRuntime,
} from "./support/runtime-harness.js";
import type { TestRuntime } from "./support/runtime-harness.js";

/**
 * Runtime replicas on one JetStream log (MACP_STORAGE_BACKEND=jetstream): any replica serves any
 * session, a message gets the answer a single node would give whichever replica judges it, and
 * every replica reports every replica's acceptances in order with the same sequence numbers.
 */

const NATS_URL = natsUrl();
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const prefixes: string[] = [];
const runtimes: TestRuntime[] = [];

afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
});
afterAll(async () => {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  for (const prefix of prefixes) {
    const names = jetStreamNames(prefix);
    await jsm.streams.delete(names.logStream).catch(() => false);
    for (const bucket of [names.snapshotBucket, names.registryBucket, names.leaseBucket]) {
      await (await kvm.open(bucket)).destroy().catch(() => false);
    }
  }
  await nc.close();
});

/** `count` runtimes sharing one fresh log. */
async function replicas(count: number): Promise<TestRuntime[]> {
  const prefix = uniqueName("t_replicas");
  prefixes.push(prefix);
  const env = {
    MACP_MEMORY_ONLY: "",
    MACP_STORAGE_BACKEND: "jetstream",
    MACP_NATS_URL: NATS_URL,
    MACP_JETSTREAM_PREFIX: prefix,
    MACP_SESSION_START_LIMIT_PER_MINUTE: "100000",
    MACP_MESSAGE_LIMIT_PER_MINUTE: "100000",
  };
  const started: TestRuntime[] = [];
  for (let i = 0; i < count; i++) {
    const runtime = await startTestRuntime(env);
    runtimes.push(runtime);
    started.push(runtime);
  }
  return started;
}

/** Sequence and message id of every envelope a passive subscriber gets, up to the end of history. */
async function history(client: MacpClient, sessionId: string): Promise<string[]> {
  const stream = client.streamSession();
  stream.subscribe(sessionId, 0);
  stream.end();
  const seen: string[] = [];
  for await (const frame of stream) {
    if (frame.response?.$case === "error") throw new Error(`${frame.response.value.code}: ${frame.response.value.message}`);
    if (frame.response?.$case === "envelope") seen.push(frame.response.value.messageId);
  }
  return seen;
}

describe("runtime replicas on one JetStream log", () => {
  it("accepts Sends for one session spread over three replicas at once, each in its own position, and answers a repeat on another replica as a duplicate", async () => {
    const nodes = await replicas(3);
    const clients = nodes.map((node) => node.client(COORDINATOR));
    const sessionId = await openDecisionSession(clients[0] as MacpClient, [COORDINATOR, ALICE]);
    const ids = Array.from({ length: 30 }, (_, i) => `p-${i}`);
    const acks = await Promise.all(ids.map((id, i) => sendAck(clients[i % 3] as MacpClient, proposal(sessionId, id, id))));
    expect(acks.map(ackCode)).toEqual(ids.map(() => "ok"));
    // The same message again, on a replica that did not accept it.
    expect(ackCode(await sendAck(clients[1] as MacpClient, proposal(sessionId, "p-0", "p-0")))).toBe("duplicate");
    expect(ackCode(await sendAck(clients[2] as MacpClient, sessionStart({ sessionId, participants: [COORDINATOR, ALICE] })))).toBe("duplicate");

    const histories = await Promise.all(clients.map((client) => history(client, sessionId)));
    expect(histories[0]).toHaveLength(31);
    expect(new Set(histories[0])).toEqual(new Set(["m0", ...ids]));
    expect(histories[1]).toEqual(histories[0]);
    expect(histories[2]).toEqual(histories[0]);
  });

  it("gives a message the answer a single node would after another replica changed the session", async () => {
    const [a, b] = await replicas(2);
    const onA = a!.client(COORDINATOR);
    const onB = b!.client(COORDINATOR);
    const sessionId = await openDecisionSession(onA, [COORDINATOR, ALICE]);
    expect(ackCode(await sendAck(onB, proposal(sessionId, "p1")))).toBe("ok");
    expect(ackCode(await sendAck(onA, commitment(sessionId, "c1")))).toBe("ok");
    // Resolved on A: B must not accept anything more.
    expect(ackCode(await sendAck(onB, proposal(sessionId, "p2", "p2")))).toBe("SESSION_NOT_OPEN");
    expect((await onB.getSession({ sessionId })).metadata?.state).toBe((await onA.getSession({ sessionId })).metadata?.state);
  });

  it("streams to a passive subscriber on one replica the envelopes accepted by another, in order with their sequence numbers", async () => {
    const [a, b] = await replicas(2);
    const onA = a!.client(COORDINATOR);
    const sessionId = await openDecisionSession(onA, [COORDINATOR, ALICE]);
    const stream = b!.client(ALICE).streamSession();
    stream.subscribe(sessionId, 0);
    const reader = new StreamReader(stream, "StreamSession on the other replica");
    const first = await reader.next("the SessionStart");
    expect(first.response?.$case === "envelope" && first.response.value.messageId).toBe("m0");
    for (const id of ["p1", "p2", "p3"]) expect(ackCode(await sendAck(onA, proposal(sessionId, id, id)))).toBe("ok");
    const live = await reader.take(3, "the proposals accepted on A");
    expect(live.map((frame) => (frame.response?.$case === "envelope" ? frame.response.value.messageId : "?"))).toEqual(["p1", "p2", "p3"]);
    stream.end();
  });

  it("reports on one replica's WatchSessions the sessions created and resolved through another", async () => {
    const [a, b] = await replicas(2);
    const watch = new StreamReader(b!.client(ALICE).watchSessions(), "WatchSessions on B");
    const onA = a!.client(COORDINATOR);
    // A session created before the watch starts shows in the initial sync; wait for it to be empty.
    const sessionId = newSessionId();
    expect(ackCode(await sendAck(onA, sessionStart({ sessionId, participants: [COORDINATOR, ALICE] })))).toBe("ok");
    const created = await watch.next("CREATED");
    expect([created.event?.eventType, created.event?.session?.sessionId]).toEqual([EventType.EVENT_TYPE_CREATED, sessionId]);
    expect(ackCode(await sendAck(onA, proposal(sessionId, "p1")))).toBe("ok");
    expect(ackCode(await sendAck(onA, commitment(sessionId, "c1")))).toBe("ok");
    const resolved = await watch.next("RESOLVED");
    expect([resolved.event?.eventType, resolved.event?.session?.sessionId]).toEqual([EventType.EVENT_TYPE_RESOLVED, sessionId]);
  });

  it("makes a policy registered on one replica usable by sessions started on another", async () => {
    const [a, b] = await replicas(2);
    const policy: PolicyDescriptor = {
      policyId: "policy.replicated",
      mode: ModeId.Decision,
      description: "registered on A",
      rules: JSON.stringify({ voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 1 } } }),
      schemaVersion: 1,
      registeredAtUnixMs: 0n,
    };
    expect(await a!.client("agent://admin").registerPolicy({ policyDescriptor: policy })).toEqual({ ok: true, error: "" });
    const onB = b!.client(COORDINATOR);
    let listed: string[] = [];
    for (let i = 0; i < 100 && !listed.includes(policy.policyId); i++) {
      listed = (await onB.listPolicies()).descriptors.map((descriptor) => descriptor.policyId);
      if (!listed.includes(policy.policyId)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(listed).toContain(policy.policyId);
    const start = sessionStart({ sessionId: newSessionId(), participants: [COORDINATOR, ALICE], payload: { policyVersion: policy.policyId } });
    expect(ackCode(await sendAck(onB, start))).toBe("ok");
  });
});
