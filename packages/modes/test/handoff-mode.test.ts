import { CommitmentPayload, ModeId, encodePayload } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { handoffMode } from "../src/index.js";
import {
  acceptedState,
  commitmentBytes,
  customPolicy,
  envelope,
  expectRejected,
  frozenCopy,
  run,
  sessionView,
  startPayload,
  type Step,
} from "./mode-test-kit.js";

const MODE = ModeId.Handoff;
const OWNER = "agent://owner";
const TARGET = "agent://target";
const OTHER = "agent://other";
const OUTSIDER = "agent://outsider";
const session = sessionView(MODE, OWNER, [OWNER, TARGET, OTHER]);

const utf8 = new TextEncoder();

function offer(fields: Record<string, unknown> = {}): Uint8Array {
  return encodePayload(MODE, "HandoffOffer", { handoffId: "h1", targetParticipant: TARGET, scope: "support", reason: "escalate", ...fields });
}
function context(fields: Record<string, unknown> = {}): Uint8Array {
  return encodePayload(MODE, "HandoffContext", { handoffId: "h1", contentType: "text/plain", context: utf8.encode("notes"), ...fields });
}
function accept(fields: Record<string, unknown> = {}): Uint8Array {
  return encodePayload(MODE, "HandoffAccept", { handoffId: "h1", acceptedBy: TARGET, reason: "ready", ...fields });
}
function decline(fields: Record<string, unknown> = {}): Uint8Array {
  return encodePayload(MODE, "HandoffDecline", { handoffId: "h1", declinedBy: TARGET, reason: "busy", ...fields });
}
function commit(fields: Partial<CommitmentPayload> = {}): Uint8Array {
  return commitmentBytes({ action: "handoff.accepted", ...fields });
}

const OFFER: Step = { type: "HandoffOffer", sender: OWNER, payload: offer() };
const ACCEPT: Step = { type: "HandoffAccept", sender: TARGET, payload: accept() };
const DECLINE: Step = { type: "HandoffDecline", sender: TARGET, payload: decline() };
/** Bytes that are not a protobuf message: a length prefix running past the end. */
const GARBAGE = Uint8Array.of(0x0a, 0x05, 0x61);

describe("handoff SessionStart (§8.2)", () => {
  it.each([
    ["a single participant", [OWNER]],
    ["an initiator that is not a participant", [TARGET, OTHER]],
    ["no participants", []],
  ])("rejects %s with INVALID_ENVELOPE", (_name, participants) => {
    const start = sessionView(MODE, OWNER, participants);
    expectRejected(handoffMode.start(start, startPayload(start)), "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("starts with empty offers and contexts", () => {
    expect(acceptedState(handoffMode.start(session, startPayload(session)))).toEqual({ offers: {}, contexts: {} });
  });
});

interface RejectCase {
  readonly name: string;
  readonly before: readonly Step[];
  readonly step: Step;
  readonly code: string;
  readonly variant: string;
  readonly policySession?: ReturnType<typeof sessionView>;
}

const REJECTIONS: readonly RejectCase[] = [
  // Authorization (§8.2) runs before the payload is read.
  { name: "HandoffOffer from a participant other than the initiator", before: [], step: { type: "HandoffOffer", sender: TARGET, payload: offer({ targetParticipant: OTHER }) }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "HandoffOffer from an outsider, even with a bad payload", before: [], step: { type: "HandoffOffer", sender: OUTSIDER, payload: GARBAGE }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "HandoffContext from an outsider", before: [OFFER], step: { type: "HandoffContext", sender: OUTSIDER, payload: context() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "HandoffAccept from an outsider", before: [OFFER], step: { type: "HandoffAccept", sender: OUTSIDER, payload: accept() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "HandoffDecline from an outsider", before: [OFFER], step: { type: "HandoffDecline", sender: OUTSIDER, payload: decline() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "an unknown type from an outsider", before: [], step: { type: "Shrug", sender: OUTSIDER, payload: new Uint8Array() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Commitment from a participant under initiator-only authority, before its payload is read", before: [OFFER, ACCEPT], step: { type: "Commitment", sender: TARGET, payload: GARBAGE }, code: "FORBIDDEN", variant: "Forbidden" },
  // Unknown types from participants.
  { name: "an unknown type from a participant", before: [], step: { type: "Shrug", sender: TARGET, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a type of another mode from the initiator", before: [], step: { type: "Contribute", sender: OWNER, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // HandoffOffer (§8.3).
  { name: "an undecodable HandoffOffer", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an empty HandoffOffer payload", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an empty handoff_id", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ handoffId: "" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an empty target_participant", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ targetParticipant: "" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a handoff_id already used (declined offer)", before: [OFFER, DECLINE], step: { type: "HandoffOffer", sender: OWNER, payload: offer() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a target that is not a declared participant", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ targetParticipant: OUTSIDER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a target equal to the sender", before: [], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ targetParticipant: OWNER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second offer while one is outstanding", before: [OFFER], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ handoffId: "h2", targetParticipant: OTHER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an offer after a transfer was accepted", before: [OFFER, ACCEPT], step: { type: "HandoffOffer", sender: OWNER, payload: offer({ handoffId: "h2", targetParticipant: OTHER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // HandoffContext.
  { name: "an undecodable HandoffContext", before: [OFFER], step: { type: "HandoffContext", sender: OWNER, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "context for an unknown handoff", before: [OFFER], step: { type: "HandoffContext", sender: OWNER, payload: context({ handoffId: "h9" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "context from a participant who did not offer", before: [OFFER], step: { type: "HandoffContext", sender: TARGET, payload: context() }, code: "FORBIDDEN", variant: "Forbidden" },
  // HandoffAccept / HandoffDecline.
  { name: "HandoffAccept before any offer", before: [], step: ACCEPT, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an undecodable HandoffAccept", before: [OFFER], step: { type: "HandoffAccept", sender: TARGET, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "HandoffAccept by a participant who is not the target", before: [OFFER], step: { type: "HandoffAccept", sender: OTHER, payload: accept({ acceptedBy: OTHER }) }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "HandoffAccept by the offerer", before: [OFFER], step: { type: "HandoffAccept", sender: OWNER, payload: accept({ acceptedBy: "" }) }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "accepted_by naming someone else", before: [OFFER], step: { type: "HandoffAccept", sender: TARGET, payload: accept({ acceptedBy: OTHER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second HandoffAccept", before: [OFFER, ACCEPT], step: ACCEPT, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "HandoffDecline after an accept", before: [OFFER, ACCEPT], step: DECLINE, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "HandoffDecline of an unknown handoff", before: [OFFER], step: { type: "HandoffDecline", sender: TARGET, payload: decline({ handoffId: "h9" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "HandoffDecline by a participant who is not the target", before: [OFFER], step: { type: "HandoffDecline", sender: OTHER, payload: decline({ declinedBy: "" }) }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "declined_by naming someone else", before: [OFFER], step: { type: "HandoffDecline", sender: TARGET, payload: decline({ declinedBy: OWNER }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second HandoffDecline", before: [OFFER, DECLINE], step: DECLINE, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Commitment.
  { name: "Commitment before any offer", before: [], step: { type: "Commitment", sender: OWNER, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment while the only offer is pending", before: [OFFER], step: { type: "Commitment", sender: OWNER, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment with a blank reason", before: [OFFER, ACCEPT], step: { type: "Commitment", sender: OWNER, payload: commit({ reason: " " }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment with another configuration_version", before: [OFFER, ACCEPT], step: { type: "Commitment", sender: OWNER, payload: commit({ configurationVersion: "cfg-2" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment 'handoff.declined' with outcome_positive", before: [OFFER, DECLINE], step: { type: "Commitment", sender: OWNER, payload: commit({ action: "handoff.declined" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an undecodable Commitment from the initiator", before: [OFFER, ACCEPT], step: { type: "Commitment", sender: OWNER, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
];

describe("handoff rejections carry the exact code", () => {
  it.each(REJECTIONS)("$name → $code", ({ before, step, code, variant }) => {
    const state = frozenCopy(run(handoffMode, session, before));
    expectRejected(handoffMode.apply(session, state, envelope(step.type, step.sender, step.payload, step.timestamp)), code, variant);
  });

  it("rejects stored state that is not handoff state", () => {
    expectRejected(
      handoffMode.apply(session, { offers: [], contexts: {} }, envelope("HandoffOffer", OWNER, offer())),
      "INVALID_ENVELOPE",
      "InvalidModeState",
    );
  });
});

function stateAfter(steps: readonly Step[], on = session): JsonValue {
  return run(handoffMode, on, steps);
}

describe("handoff happy paths", () => {
  it("records an offer with the envelope timestamp, in declaration order", () => {
    const state = stateAfter([{ ...OFFER, timestamp: 1234 }]);
    expect(JSON.stringify(state)).toBe(
      JSON.stringify({
        offers: {
          h1: {
            handoff_id: "h1",
            target_participant: TARGET,
            scope: "support",
            reason: "escalate",
            offered_by: OWNER,
            disposition: "Offered",
            accepted_by: null,
            declined_by: null,
            outcome_reason: null,
            offered_at_ms: 1234,
          },
        },
        contexts: {},
      }),
    );
  });

  it("keeps context as byte arrays, including late context after an accept", () => {
    const state = stateAfter([OFFER, { type: "HandoffContext", sender: OWNER, payload: context() }, ACCEPT, { type: "HandoffContext", sender: OWNER, payload: context({ contentType: "late" }) }]);
    expect(state).toMatchObject({
      offers: { h1: { disposition: "Accepted", accepted_by: TARGET, outcome_reason: "ready" } },
      contexts: {
        h1: [
          { content_type: "text/plain", context: Array.from(utf8.encode("notes")), sender: OWNER },
          { content_type: "late", context: Array.from(utf8.encode("notes")), sender: OWNER },
        ],
      },
    });
  });

  it("fills accepted_by with the sender when the payload leaves it empty", () => {
    const state = stateAfter([OFFER, { type: "HandoffAccept", sender: TARGET, payload: accept({ acceptedBy: "" }) }]);
    expect(state).toMatchObject({ offers: { h1: { accepted_by: TARGET, declined_by: null } } });
  });

  it("allows a new offer after a decline, even to the same target", () => {
    const state = stateAfter([OFFER, DECLINE, { type: "HandoffOffer", sender: OWNER, payload: offer({ handoffId: "h2" }) }]);
    expect(state).toMatchObject({
      offers: { h1: { disposition: "Declined", declined_by: TARGET, outcome_reason: "busy" }, h2: { disposition: "Offered" } },
    });
  });

  it.each([
    ["after an accept", [OFFER, ACCEPT], commit()],
    ["after a decline, with either polarity", [OFFER, DECLINE], commit({ action: "handoff.accepted", outcomePositive: true })],
    ["after a decline, negative", [OFFER, DECLINE], commit({ action: "handoff.declined", outcomePositive: false })],
  ])("resolves %s with the Commitment bytes and unchanged state", (_name, before, payload) => {
    const state = frozenCopy(stateAfter(before));
    const outcome = handoffMode.apply(session, state, envelope("Commitment", OWNER, payload));
    expect(outcome).toEqual({ kind: "accepted", state, resolution: payload });
  });

  it("accepts an empty policy_version Commitment on a policy.default session (decision 1)", () => {
    const outcome = handoffMode.apply(session, stateAfter([OFFER, ACCEPT]), envelope("Commitment", OWNER, commit({ policyVersion: "" })));
    expect(outcome.kind).toBe("accepted");
  });

  it("never mutates the state it is given", () => {
    const state = frozenCopy(stateAfter([OFFER]));
    expect(() => handoffMode.apply(session, state, envelope("HandoffAccept", TARGET, accept()))).not.toThrow();
  });
});

describe("handoff policy effects", () => {
  const implicit = sessionView(MODE, OWNER, [OWNER, TARGET], customPolicy({ acceptance: { implicit_accept_timeout_ms: 100 } }));
  const offerAt = (timestamp: number | bigint): Step => ({ ...OFFER, timestamp });
  const commitOn = (on: ReturnType<typeof sessionView>) => commitmentBytes({ action: "handoff.accepted", policyVersion: on.policyVersion });

  it("implicitly accepts a pending offer once the timeout has elapsed by envelope time", () => {
    const outcome = handoffMode.apply(implicit, stateAfter([offerAt(1000)], implicit), envelope("Commitment", OWNER, commitOn(implicit), 1100));
    expect(acceptedState(outcome)).toMatchObject({
      offers: { h1: { disposition: "Accepted", accepted_by: TARGET, outcome_reason: "implicit accept (timeout)" } },
    });
  });

  it.each([
    ["before the timeout", 1000, 1099],
    ["for an offer stamped 0", 0, 1_000_000],
  ])("does not implicitly accept %s", (_name, offeredAt, committedAt) => {
    const outcome = handoffMode.apply(implicit, stateAfter([offerAt(offeredAt)], implicit), envelope("Commitment", OWNER, commitOn(implicit), committedAt));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("stores an offer stamped i64::MAX exactly and reads it back from JSON text", () => {
    const state = stateAfter([offerAt(2n ** 63n - 1n)], implicit);
    expect(state).toMatchObject({ offers: { h1: { offered_at_ms: "9223372036854775807" } } });
    const reread = JSON.parse(JSON.stringify(state)) as JsonValue;
    expect(handoffMode.apply(implicit, reread, envelope("HandoffAccept", TARGET, accept())).kind).toBe("accepted");
  });

  it.each([
    ["99 ms after the offer: not yet", 99n, "rejected"],
    ["100 ms after the offer: accepted", 100n, "accepted"],
  ])("times offers beyond 2^53 exactly (%s)", (_name, elapsed, kind) => {
    // Doubles are 256 ms apart near 2^60, so neither case would be told apart without bigint.
    const offeredAt = 2n ** 60n;
    const state = JSON.parse(JSON.stringify(stateAfter([offerAt(offeredAt)], implicit))) as JsonValue;
    const outcome = handoffMode.apply(implicit, state, envelope("Commitment", OWNER, commitOn(implicit), offeredAt + elapsed));
    expect(outcome.kind).toBe(kind);
  });

  it("measures elapsed time with the reference's wrapping i64 subtraction", () => {
    // i64::MIN - 1 wraps to i64::MAX in a release build of the reference: the timeout has elapsed.
    const outcome = handoffMode.apply(implicit, stateAfter([offerAt(1)], implicit), envelope("Commitment", OWNER, commitOn(implicit), -(2n ** 63n)));
    expect(acceptedState(outcome)).toMatchObject({ offers: { h1: { disposition: "Accepted", accepted_by: TARGET } } });
  });

  it("has no implicit accept without a bound policy (legacy replay)", () => {
    const legacy = sessionView(MODE, OWNER, [OWNER, TARGET], null);
    const outcome = handoffMode.apply(legacy, stateAfter([offerAt(1000)], legacy), envelope("Commitment", OWNER, commitOn(legacy), 9_999_999));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("denies a Commitment under an unsupported schema_version", () => {
    const v3 = sessionView(MODE, OWNER, [OWNER, TARGET], customPolicy({}, 3));
    const error = expectRejected(
      handoffMode.apply(v3, stateAfter([OFFER, ACCEPT], v3), envelope("Commitment", OWNER, commitOn(v3))),
      "POLICY_DENIED",
      "PolicyDenied",
    );
    expect(error.details?.reasons).toEqual(["unsupported policy schema version: 3 (supported: [1, 2])"]);
  });

  it("lets a designated role commit and forbids the initiator when not designated", () => {
    const designated = sessionView(MODE, OWNER, [OWNER, TARGET], customPolicy({ commitment: { authority: "designated_role", designated_roles: [TARGET] } }));
    const state = stateAfter([OFFER, ACCEPT], designated);
    expect(handoffMode.apply(designated, state, envelope("Commitment", TARGET, commitOn(designated))).kind).toBe("accepted");
    expectRejected(handoffMode.apply(designated, state, envelope("Commitment", OWNER, commitOn(designated))), "FORBIDDEN", "Forbidden");
  });
});
