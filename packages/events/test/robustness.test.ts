import { ModeId } from "@macp/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANONICAL_EVENT_TYPES,
  applyEvent,
  applyMetricsEvent,
  emptyMetricsSummary,
  emptyRunState,
  normalizeRawEvent,
  rawEventKey,
  sequenceEvents,
} from "../src/index.js";
import type { CanonicalEvent, JsonObject, RawStreamEnvelope } from "../src/index.js";
import { RUN_ID, int64 } from "./sessions.js";

const MODES = [...Object.values(ModeId), "", "ext.custom.v1"];
const MESSAGE_TYPES = [
  "SessionStart", "Commitment", "Signal", "Progress", "Proposal", "CounterProposal", "Evaluation", "Objection", "Vote", "Accept", "Reject",
  "Withdraw", "ApprovalRequest", "Approve", "Abstain", "TaskRequest", "TaskAccept", "TaskReject", "TaskUpdate", "TaskComplete", "TaskFail",
  "HandoffOffer", "HandoffContext", "HandoffAccept", "HandoffDecline", "Contribute", "ToolCall", "ToolResult", "PolicyResolved", "SignalAck",
];

/** Any UTF-16 code units: U+0000 and unpaired surrogates included (JSON.stringify escapes them). */
const codeUnits = fc.array(fc.oneof(fc.constantFrom(0, 0xd800, 0xdc00, 0xdbff), fc.integer({ min: 0, max: 0xffff })), { maxLength: 8 }).map((units) => String.fromCharCode(...units));

/** Text that PostgreSQL jsonb refuses. */
function hasUnstorableText(value: unknown): boolean {
  const text = JSON.stringify(value);
  return /\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i.test(text);
}

describe("robustness on arbitrary runtime input (properties)", () => {
  it("normalizing any payload bytes under any mode and message type never throws and yields storable JSON", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MODES),
        fc.oneof(fc.constantFrom(...MESSAGE_TYPES), fc.string({ maxLength: 12 })),
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.json().map((j) => new TextEncoder().encode(j)),
          codeUnits.map((text) => new TextEncoder().encode(JSON.stringify({ text, [text]: [text] }))),
        ),
        codeUnits,
        (mode, messageType, payload, sender) => {
          const raw: RawStreamEnvelope = {
            kind: "stream-envelope",
            envelope: { macpVersion: "1.0", mode, messageType, messageId: "m", sessionId: "s", sender, timestampUnixMs: int64(1), payload },
            runtimeSequence: 0,
            receivedAt: "2026-12-06T08:00:00.000Z",
          };
          const drafts = normalizeRawEvent(raw, { knownParticipants: [] });
          expect(drafts.some((d) => d.type === "message.received")).toBe(true);
          for (const d of drafts) {
            expect(JSON.parse(JSON.stringify(d.data))).toEqual(d.data);
            expect(hasUnstorableText(d)).toBe(false);
          }
          const { events } = sequenceEvents({ runId: RUN_ID, rawKey: rawEventKey(raw), drafts, firstSeq: 1 });
          events.reduce(applyEvent, emptyRunState(RUN_ID));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the folds accept any JSON data under any event type without throwing", () => {
    const event = fc.record({
      type: fc.constantFrom(...CANONICAL_EVENT_TYPES),
      data: fc.dictionary(
        fc.constantFrom("sender", "to", "messageType", "decodedPayload", "payload", "participants", "state", "status", "ack", "participantId", "signalData", "artifactId", "policyVersion"),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      subject: fc.option(fc.record({ kind: fc.constantFrom("proposal" as const, "signal" as const, "decision" as const), id: fc.string({ maxLength: 4 }) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (specs) => {
        const events: CanonicalEvent[] = specs.map((spec, i) => ({
          id: `00000000-0000-5000-8000-${String(i).padStart(12, "0")}`,
          runId: RUN_ID,
          seq: i + 1,
          ts: "2026-12-06T08:00:00.000Z",
          type: spec.type,
          schemaVersion: 3,
          ...(spec.subject === undefined ? {} : { subject: spec.subject }),
          source: { kind: "runtime", name: "macp-runtime" },
          trace: {},
          data: spec.data as JsonObject,
        }));
        const state = events.reduce(applyEvent, emptyRunState(RUN_ID));
        const metrics = events.reduce(applyMetricsEvent, emptyMetricsSummary(RUN_ID));
        expect(state.version).toBe(events.length);
        expect(metrics.eventCount).toBe(events.length);
        expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      }),
      { numRuns: 300 },
    );
  });
});
