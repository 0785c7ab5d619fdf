// The README's opening example, verbatim apart from the assertions replacing its console.log lines.
import { Envelope, ModeId, encodePayload } from "@macp/protocol";
import { expect, it } from "vitest";
import { applyEvent, emptyRunState, normalizeContextFor, normalizeRawEvent, rawEventKey, sequenceEvents } from "@macp/events";

it("the README example runs and prints what it says", () => {
  const runId = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
  let state = emptyRunState(runId);
  let nextSeq = 1;

  const raw = {
    kind: "stream-envelope" as const,
    envelope: Envelope.fromPartial({
      macpVersion: "1.0",
      mode: ModeId.Decision,
      messageType: "Vote",
      messageId: "m-1",
      sessionId: "s-1",
      sender: "agent://a",
      payload: encodePayload(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE", reason: "ok" }),
    }),
    runtimeSequence: 3,
    receivedAt: "2026-12-06T08:00:00.000Z",
  };

  const drafts = normalizeRawEvent(raw, normalizeContextFor(state));
  const { events } = sequenceEvents({ runId, rawKey: rawEventKey(raw), drafts, firstSeq: nextSeq });
  nextSeq += events.length;
  for (const event of events) state = applyEvent(state, event);

  expect(events.map((e) => e.type)).toEqual(["participant.seen", "message.received", "proposal.updated"]);
  expect([state.participants[0]?.status, state.decision.current?.proposals[0]?.vote]).toEqual(["active", "allow"]);
  expect(nextSeq).toBe(4);
});
