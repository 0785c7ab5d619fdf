import { describe, expect, it } from "vitest";
import { SessionFeed } from "@macp/core";
import { decision } from "@macp/protocol";
import { createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";

function proposal(sessionId: string, id: string) {
  return envelope({
    sessionId,
    mode: DECISION,
    messageType: "Proposal",
    sender: "alice",
    payload: decision.ProposalPayload.encode({ proposalId: id, option: "o", rationale: "", supportingData: new Uint8Array() }).finish(),
  });
}

describe("SessionFeed", () => {
  it("delivers history after the given sequence, then live envelopes, with no gap or duplicate", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    for (let i = 0; i < 4; i++) await kernel.send(proposal(id, `p${i}`), { sender: "alice" });

    const feed = new SessionFeed(kernel, id, 2);
    const received: number[] = [];
    const done = (async () => {
      for await (const event of feed) {
        received.push(event.seq);
        if (received.length === 1) {
          // Sends racing the history read must appear exactly once, in order.
          await Promise.all([kernel.send(proposal(id, "p10"), { sender: "alice" }), kernel.send(proposal(id, "p11"), { sender: "alice" })]);
        }
        if (event.seq === 7) feed.close();
      }
    })();
    await done;
    expect(received).toEqual([3, 4, 5, 6, 7]);
    expect(kernel.sessionSubscriberCount).toBe(0);
  });

  it("fails as lagging when the consumer falls too far behind", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice"] }), { sender: "alice" });
    const feed = new SessionFeed(kernel, id, 0, 2);
    const iterator = feed[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.seq).toBe(1);
    for (let i = 0; i < 5; i++) await kernel.send(proposal(id, `p${i}`), { sender: "alice" });
    await expect(
      (async () => {
        for (;;) {
          const step = await iterator.next();
          if (step.done) return;
        }
      })(),
    ).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });
});
