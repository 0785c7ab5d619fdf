import { Client, Metadata, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamSessionRequest, decision } from "@macp/protocol";
import { openDecisionSession, proposal, sendAck, startTestRuntime } from "./support/runtime-harness.js";
import type { TestRuntime } from "./support/runtime-harness.js";

const identity = (value: Buffer): Buffer => value;

describe("repeated subscribe frames from a reader that never reads", () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    await runtime.close();
  });

  it("leave one live subscription, not one per frame", async () => {
    const alice = runtime.client("alice");
    const sessionId = await openDecisionSession(alice, ["alice"]);
    const rationale = "x".repeat(200_000);
    for (let i = 0; i < 20; i++) {
      const payload = decision.ProposalPayload.encode({ proposalId: `p${i}`, option: "o", rationale, supportingData: new Uint8Array() }).finish();
      expect((await sendAck(alice, { ...proposal(sessionId, `m${i}`), payload })).ok).toBe(true);
    }
    const raw = new Client(runtime.address, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer alice");
    const call = raw.makeBidiStreamRequest("/macp.v1.MACPRuntimeService/StreamSession", identity, identity, metadata, {});
    call.on("error", () => undefined);
    // Never reads, so the server's writes back up and each delivery loop waits for a drain.
    call.pause();
    const frame = Buffer.from(StreamSessionRequest.encode({ envelope: undefined, subscribeSessionId: sessionId, afterSequence: 0n }).finish());
    for (let i = 0; i < 200; i++) call.write(frame);
    // Without the fix each replaced subscription stays parked; watch a few seconds of frames.
    let peak = 0;
    for (let i = 0; i < 60; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      peak = Math.max(peak, runtime.handle.kernel.sessionSubscriberCount);
    }
    expect(peak).toBe(1);
    call.cancel();
    raw.close();
  });
});
