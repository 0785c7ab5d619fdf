import { ModeId } from "@macp/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANONICAL_EVENT_SCHEMA_VERSION,
  RUNTIME_SOURCE_NAME,
  canonicalEventId,
  rawEventKey,
  sequenceEvents,
} from "../src/index.js";
import type { EventDraft, RawRuntimeEvent } from "../src/index.js";
import { int64 } from "./sessions.js";

const RUN = "7d444840-9dc0-11d1-b245-5ffdce74fad2";

function draft(type: EventDraft["type"], data: EventDraft["data"] = {}): EventDraft {
  return { ts: "2026-12-06T08:00:00.000Z", type, schemaVersion: CANONICAL_EVENT_SCHEMA_VERSION, source: { kind: "runtime", name: RUNTIME_SOURCE_NAME, rawType: "Vote" }, trace: {}, data };
}

describe("sequenceEvents", () => {
  it("numbers the drafts contiguously from firstSeq and stamps run, id and schema version", () => {
    const drafts = [draft("participant.seen"), draft("message.received"), draft("proposal.updated")];
    const { events, nextSeq } = sequenceEvents({ runId: RUN, rawKey: "k", drafts, firstSeq: 41 });
    expect(events.map((e) => e.seq)).toEqual([41, 42, 43]);
    expect(nextSeq).toBe(44);
    for (const event of events) {
      expect(event.runId).toBe(RUN);
      expect(event.schemaVersion).toBe(3);
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it("gives a redelivered raw event identical events", () => {
    const drafts = [draft("message.received", { a: 1 }), draft("decision.finalized")];
    const first = sequenceEvents({ runId: RUN, rawKey: "stream-envelope:s:m1", drafts, firstSeq: 7 });
    const again = sequenceEvents({ runId: RUN, rawKey: "stream-envelope:s:m1", drafts, firstSeq: 7 });
    expect(again).toEqual(first);
  });

  it("keeps the other ids when a redelivery omits an event (participant already known)", () => {
    const withSeen = sequenceEvents({ runId: RUN, rawKey: "k", drafts: [draft("participant.seen"), draft("message.received"), draft("proposal.created")], firstSeq: 1 });
    const withoutSeen = sequenceEvents({ runId: RUN, rawKey: "k", drafts: [draft("message.received"), draft("proposal.created")], firstSeq: 10 });
    expect(withoutSeen.events.map((e) => e.id)).toEqual(withSeen.events.slice(1).map((e) => e.id));
  });

  it("distinguishes runs, raw keys and repeated types", () => {
    const ids = new Set([
      canonicalEventId(RUN, "k", "progress.reported", 0),
      canonicalEventId(RUN, "k", "progress.reported", 1),
      canonicalEventId(RUN, "k2", "progress.reported", 0),
      canonicalEventId("2d444840-9dc0-11d1-b245-5ffdce74fad2", "k", "progress.reported", 0),
    ]);
    expect(ids.size).toBe(4);
  });

  it("refuses a seq below 1 or not an integer", () => {
    expect(() => sequenceEvents({ runId: RUN, rawKey: "k", drafts: [], firstSeq: 0 })).toThrow(RangeError);
    expect(() => sequenceEvents({ runId: RUN, rawKey: "k", drafts: [], firstSeq: 1.5 })).toThrow(RangeError);
  });

  it("is a pure function of its input (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1e9 }), fc.array(fc.constantFrom("message.received" as const, "progress.reported" as const), { maxLength: 6 }), (key, seq, types) => {
        const drafts = types.map((t) => draft(t));
        expect(sequenceEvents({ runId: RUN, rawKey: key, drafts, firstSeq: seq })).toEqual(sequenceEvents({ runId: RUN, rawKey: key, drafts, firstSeq: seq }));
      }),
    );
  });
});

describe("rawEventKey", () => {
  const envelope = { macpVersion: "1.0", mode: ModeId.Decision, messageType: "Vote", messageId: "m-1", sessionId: "s-1", sender: "agent://a", timestampUnixMs: int64(1), payload: new Uint8Array() };

  it("keys an envelope by session and message id, not by its counted stream position", () => {
    const a: RawRuntimeEvent = { kind: "stream-envelope", envelope, runtimeSequence: 3, receivedAt: "2026-12-06T08:00:00.000Z" };
    const replayed: RawRuntimeEvent = { kind: "stream-envelope", envelope, runtimeSequence: 5, receivedAt: "2026-12-06T08:01:00.000Z" };
    expect(rawEventKey(a)).toBe(rawEventKey(replayed));
    expect(rawEventKey({ ...a, envelope: { ...envelope, messageId: "m-2" } })).not.toBe(rawEventKey(a));
  });

  it("keys the consumer's own raw events by content and receive time", () => {
    const status: RawRuntimeEvent = { kind: "stream-status", status: "reconnecting", receivedAt: "2026-12-06T08:00:00.000Z" };
    expect(rawEventKey(status)).toBe(rawEventKey({ ...status }));
    expect(rawEventKey({ ...status, receivedAt: "2026-12-06T08:00:01.000Z" })).not.toBe(rawEventKey(status));
  });
});
