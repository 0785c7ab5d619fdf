import { CommitmentPayload, ModeId, encodeContributeProto } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { multiRoundMode } from "../src/index.js";
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

const MODE = ModeId.MultiRound;
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const BOB = "agent://bob";
const OUTSIDER = "agent://outsider";
const session = sessionView(MODE, COORDINATOR, [COORDINATOR, ALICE, BOB]);
const utf8 = new TextEncoder();

function json(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}
function contribute(sender: string, value: string): Step {
  return { type: "Contribute", sender, payload: json({ value }) };
}
function contributeProto(sender: string, value: string): Step {
  return { type: "Contribute", sender, payload: encodeContributeProto({ value }) };
}
function commit(fields: Partial<CommitmentPayload> = {}): Uint8Array {
  return commitmentBytes({ action: "multi_round.converged", ...fields });
}

const CONVERGED = [contribute(ALICE, "a"), contribute(BOB, "a")];

describe("multi-round SessionStart (§10.1)", () => {
  it("rejects an empty participant list with INVALID_ENVELOPE", () => {
    const empty = sessionView(MODE, COORDINATOR, []);
    expectRejected(multiRoundMode.start(empty, startPayload(empty)), "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("starts at round 0 with the declared participants, in declaration order", () => {
    expect(JSON.stringify(acceptedState(multiRoundMode.start(session, startPayload(session))))).toBe(
      JSON.stringify({ round: 0, participants: [COORDINATOR, ALICE, BOB], contributions: {}, convergence_type: "all_equal", converged: false }),
    );
  });
});

interface RejectCase {
  readonly name: string;
  readonly before: readonly Step[];
  readonly step: Step;
  readonly code: string;
  readonly variant: string;
}

const REJECTIONS: readonly RejectCase[] = [
  // Authorization (§10.2): Commitment is initiator-only regardless of policy and convergence.
  { name: "Commitment from a participant after convergence", before: CONVERGED, step: { type: "Commitment", sender: ALICE, payload: commit() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Commitment from a participant before convergence", before: [], step: { type: "Commitment", sender: BOB, payload: commit() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Commitment from an outsider", before: CONVERGED, step: { type: "Commitment", sender: OUTSIDER, payload: commit() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Contribute from an outsider", before: [], step: contribute(OUTSIDER, "a"), code: "FORBIDDEN", variant: "Forbidden" },
  { name: "an unknown type from an outsider", before: [], step: { type: "Vote", sender: OUTSIDER, payload: new Uint8Array() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "an unknown type from a participant", before: [], step: { type: "Vote", sender: ALICE, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Contribute payloads (README decision 6).
  { name: "an empty Contribute payload", before: [], step: { type: "Contribute", sender: ALICE, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "JSON without a value", before: [], step: { type: "Contribute", sender: ALICE, payload: json({ choice: "a" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "JSON with a non-string value", before: [], step: { type: "Contribute", sender: ALICE, payload: json({ value: 5 }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "JSON with a null value", before: [], step: { type: "Contribute", sender: ALICE, payload: json({ value: null }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a JSON array", before: [], step: { type: "Contribute", sender: ALICE, payload: json(["a"]) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "plain text", before: [], step: { type: "Contribute", sender: ALICE, payload: utf8.encode("hello") }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "truncated protobuf", before: [], step: { type: "Contribute", sender: ALICE, payload: Uint8Array.of(0x0a, 0x05, 0x61) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "invalid UTF-8 that is not protobuf", before: [], step: { type: "Contribute", sender: ALICE, payload: Uint8Array.of(0xff, 0xfe) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Convergence is sticky.
  { name: "a Contribute after convergence, same value", before: CONVERGED, step: contribute(ALICE, "a"), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a Contribute after convergence, new value", before: CONVERGED, step: contribute(BOB, "b"), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a Contribute after convergence from the initiator", before: CONVERGED, step: contribute(COORDINATOR, "a"), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Commitment.
  { name: "Commitment with no contributions", before: [], step: { type: "Commitment", sender: COORDINATOR, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment while a participant has not contributed", before: [contribute(ALICE, "a")], step: { type: "Commitment", sender: COORDINATOR, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment while values differ", before: [contribute(ALICE, "a"), contribute(BOB, "b")], step: { type: "Commitment", sender: COORDINATOR, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an undecodable Commitment after convergence", before: CONVERGED, step: { type: "Commitment", sender: COORDINATOR, payload: Uint8Array.of(0x0a, 0x05, 0x61) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a Commitment with a blank commitment_id", before: CONVERGED, step: { type: "Commitment", sender: COORDINATOR, payload: commit({ commitmentId: "" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a Commitment with another policy_version", before: CONVERGED, step: { type: "Commitment", sender: COORDINATOR, payload: commit({ policyVersion: "policy.other" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
];

describe("multi-round rejections carry the exact code", () => {
  it.each(REJECTIONS)("$name → $code", ({ before, step, code, variant }) => {
    const state = frozenCopy(run(multiRoundMode, session, before));
    expectRejected(multiRoundMode.apply(session, state, envelope(step.type, step.sender, step.payload)), code, variant);
  });

  it("rejects stored state that is not multi-round state", () => {
    expectRejected(
      multiRoundMode.apply(session, { round: 0, participants: [ALICE], contributions: { [ALICE]: 1 }, convergence_type: "all_equal", converged: false }, envelope("Contribute", ALICE, json({ value: "a" }))),
      "INVALID_ENVELOPE",
      "InvalidModeState",
    );
  });
});

describe("multi-round contributions and convergence", () => {
  it("counts value changes as rounds; a re-sent value is accepted but changes nothing", () => {
    const state = run(multiRoundMode, session, [contribute(ALICE, "a"), contribute(ALICE, "a"), contribute(BOB, "b"), contribute(ALICE, "b")]);
    expect(state).toEqual({ round: 3, participants: [COORDINATOR, ALICE, BOB], contributions: { [ALICE]: "b", [BOB]: "b" }, convergence_type: "all_equal", converged: true });
  });

  it("accepts protobuf and JSON contributions alike", () => {
    const state = run(multiRoundMode, session, [contributeProto(ALICE, "x"), contribute(BOB, "x")]);
    expect(state).toMatchObject({ contributions: { [ALICE]: "x", [BOB]: "x" }, converged: true });
  });

  it("accepts an empty string value in JSON form", () => {
    expect(run(multiRoundMode, session, [contribute(ALICE, "")])).toMatchObject({ round: 1, contributions: { [ALICE]: "" } });
  });

  it("ignores extra JSON fields", () => {
    const step: Step = { type: "Contribute", sender: ALICE, payload: json({ value: "a", note: 1 }) };
    expect(run(multiRoundMode, session, [step])).toMatchObject({ contributions: { [ALICE]: "a" } });
  });

  it.each([
    ["the listed initiator has not contributed", [COORDINATOR, ALICE, BOB], [contribute(ALICE, "a"), contribute(BOB, "a")], true],
    ["the initiator contributed a different value", [COORDINATOR, ALICE, BOB], [contribute(COORDINATOR, "b"), contribute(ALICE, "a"), contribute(BOB, "a")], false],
    ["the initiator aligned with everyone", [COORDINATOR, ALICE, BOB], [contribute(COORDINATOR, "b"), contribute(ALICE, "a"), contribute(BOB, "a"), contribute(COORDINATOR, "a")], true],
    ["the initiator is not a participant", [ALICE, BOB], [contribute(ALICE, "a"), contribute(BOB, "a")], true],
    ["the initiator is the only participant and has contributed", [COORDINATOR], [contribute(COORDINATOR, "a")], true],
    ["one participant still missing", [COORDINATOR, ALICE, BOB], [contribute(ALICE, "a")], false],
  ])("converged is right when %s", (_name, participants, steps, converged) => {
    expect(run(multiRoundMode, sessionView(MODE, COORDINATOR, participants), steps)).toMatchObject({ converged });
  });

  it("resolves with the converged value JSON and leaves the state unchanged", () => {
    const state = frozenCopy(run(multiRoundMode, session, [contribute(BOB, "b"), contribute(ALICE, "a"), contribute(BOB, "a")]));
    const outcome = multiRoundMode.apply(session, state, envelope("Commitment", COORDINATOR, commit()));
    if (outcome.kind !== "accepted" || outcome.resolution === undefined) throw new Error("expected a resolution");
    expect(outcome.state).toEqual(state);
    expect(new TextDecoder().decode(outcome.resolution)).toBe(
      `{"converged_value":"a","round":3,"final":{"${ALICE}":"a","${BOB}":"a"}}`,
    );
  });

  it("keeps numeric-looking sender ids in byte order in the resolution", () => {
    const numeric = sessionView(MODE, "0", ["10", "9"]);
    const state = run(multiRoundMode, numeric, [contribute("9", "v"), contribute("10", "v")]);
    const outcome = multiRoundMode.apply(numeric, state, envelope("Commitment", "0", commit()));
    if (outcome.kind !== "accepted" || outcome.resolution === undefined) throw new Error("expected a resolution");
    expect(new TextDecoder().decode(outcome.resolution)).toBe(`{"converged_value":"v","round":2,"final":{"10":"v","9":"v"}}`);
  });

  it("ignores policy entirely: authority and schema version have no effect", () => {
    const policy = customPolicy({ commitment: { authority: "designated_role", designated_roles: [ALICE] } }, 3);
    const governed = sessionView(MODE, COORDINATOR, [COORDINATOR, ALICE, BOB], policy);
    const state = run(multiRoundMode, governed, CONVERGED);
    const bytes = commit({ policyVersion: governed.policyVersion });
    expect(multiRoundMode.apply(governed, state, envelope("Commitment", COORDINATOR, bytes)).kind).toBe("accepted");
    expectRejected(multiRoundMode.apply(governed, state, envelope("Commitment", ALICE, bytes)), "FORBIDDEN", "Forbidden");
  });
});
