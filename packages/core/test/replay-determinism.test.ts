import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { replayLog, serializeSessionState } from "@macp/core/internal";
import { CommitmentPayload, decision } from "@macp/protocol";
import { createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";
const senders = ["coordinator", "alice", "bob", "mallory"];

const messageArb = fc.record({
  sender: fc.constantFrom(...senders),
  kind: fc.constantFrom("Proposal", "Evaluation", "Objection", "Vote", "Commitment", "Bogus"),
  proposal: fc.constantFrom("p1", "p2", ""),
  choice: fc.constantFrom("APPROVE", "reject", "ABSTAIN", "maybe", "REVIEW", "BLOCK", "critical", "low"),
  confidence: fc.constantFrom(0, 0.5, 1, 2),
  reuseId: fc.boolean(),
  positive: fc.boolean(),
});

type GeneratedMessage = typeof messageArb extends fc.Arbitrary<infer T> ? T : never;

function payloadFor(message: GeneratedMessage): Uint8Array {
  switch (message.kind) {
    case "Proposal":
      return decision.ProposalPayload.encode({ proposalId: message.proposal, option: "o", rationale: "", supportingData: new Uint8Array() }).finish();
    case "Evaluation":
      return decision.EvaluationPayload.encode({ proposalId: message.proposal, recommendation: message.choice, confidence: message.confidence, reason: "" }).finish();
    case "Objection":
      return decision.ObjectionPayload.encode({ proposalId: message.proposal, reason: "r", severity: message.choice }).finish();
    case "Vote":
      return decision.VotePayload.encode({ proposalId: message.proposal, vote: message.choice, reason: "" }).finish();
    case "Commitment":
      return CommitmentPayload.encode(
        CommitmentPayload.fromPartial({
          commitmentId: "c",
          action: message.positive ? "decision.selected" : "decision.rejected",
          authorityScope: "s",
          reason: "r",
          modeVersion: "1.0.0",
          configurationVersion: "cfg-1",
          policyVersion: "policy.default",
          outcomePositive: message.positive,
        }),
      ).finish();
    default:
      return new Uint8Array([1, 2, 3]);
  }
}

describe("replay determinism", () => {
  it("rebuilds an identical session from the accepted history, and rejected messages never change state", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 25 }), async (messages) => {
        const { kernel, store, modes } = createHarness();
        const id = newSessionId();
        await kernel.send(sessionStart(id, DECISION, "coordinator", { participants: ["coordinator", "alice", "bob"] }), {
          sender: "coordinator",
        });
        let lastId = "first";
        for (const [index, message] of messages.entries()) {
          const messageId = message.reuseId ? lastId : `m${index}`;
          lastId = messageId;
          const before = serializeSessionState(kernel.sessionState(id) ?? { record: {} as never, seenMessageIds: [] });
          const outcome = await kernel.send(
            envelope({ sessionId: id, mode: DECISION, messageType: message.kind, messageId, sender: message.sender, payload: payloadFor(message) }),
            { sender: message.sender },
          );
          const after = serializeSessionState(kernel.sessionState(id) ?? { record: {} as never, seenMessageIds: [] });
          if (!outcome.ok || outcome.duplicate) expect(after).toBe(before);
        }
        const replayed = replayLog(modes, await store.loadLog(id));
        const live = kernel.sessionState(id);
        expect(serializeSessionState(replayed)).toBe(serializeSessionState(live ?? replayed));
      }),
      { numRuns: 150 },
    );
  });
});
