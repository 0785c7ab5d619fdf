import { CommitmentPayload, ModeId, encodePayload } from "@macp/protocol";
import type { JsonValue, PolicyDefinition } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { quorumMode } from "../src/index.js";
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

const MODE = ModeId.Quorum;
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const BOB = "agent://bob";
const CAROL = "agent://carol";
const OUTSIDER = "agent://outsider";
const PARTICIPANTS = [ALICE, BOB, CAROL];
const session = sessionView(MODE, COORDINATOR, PARTICIPANTS);
const GARBAGE = Uint8Array.of(0x0a, 0x05, 0x61);

function request(fields: Record<string, unknown> = {}): Uint8Array {
  return encodePayload(MODE, "ApprovalRequest", { requestId: "r1", action: "deploy", summary: "Deploy v2", requiredApprovals: 2, ...fields });
}
function ballot(type: string, requestId = "r1"): Uint8Array {
  return encodePayload(MODE, type, { requestId, reason: "because" });
}
function commit(fields: Partial<CommitmentPayload> = {}, on: { policyVersion: string } = session): Uint8Array {
  return commitmentBytes({ action: "quorum.approved", policyVersion: on.policyVersion, ...fields });
}

const REQUEST: Step = { type: "ApprovalRequest", sender: COORDINATOR, payload: request() };
const vote = (type: "Approve" | "Reject" | "Abstain", sender: string): Step => ({ type, sender, payload: ballot(type) });

describe("quorum SessionStart (§9.2)", () => {
  it("rejects an empty participant list with INVALID_ENVELOPE", () => {
    const empty = sessionView(MODE, COORDINATOR, []);
    expectRejected(quorumMode.start(empty, startPayload(empty)), "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("starts without a request and with no ballots; the initiator need not be a participant", () => {
    expect(acceptedState(quorumMode.start(session, startPayload(session)))).toEqual({ request: null, ballots: {} });
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
  // Authorization (§9.2), before any payload check.
  { name: "ApprovalRequest from a participant", before: [], step: { type: "ApprovalRequest", sender: ALICE, payload: request() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "ApprovalRequest from an outsider with a bad payload", before: [], step: { type: "ApprovalRequest", sender: OUTSIDER, payload: GARBAGE }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Approve from an outsider", before: [REQUEST], step: vote("Approve", OUTSIDER), code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Reject from an outsider", before: [REQUEST], step: vote("Reject", OUTSIDER), code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Abstain from an outsider", before: [REQUEST], step: vote("Abstain", OUTSIDER), code: "FORBIDDEN", variant: "Forbidden" },
  { name: "a ballot from the initiator who is not a participant", before: [REQUEST], step: vote("Approve", COORDINATOR), code: "FORBIDDEN", variant: "Forbidden" },
  { name: "an unknown type from an outsider", before: [], step: { type: "Vote", sender: OUTSIDER, payload: new Uint8Array() }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "Commitment from a participant under initiator-only authority, before its payload", before: [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)], step: { type: "Commitment", sender: ALICE, payload: GARBAGE }, code: "FORBIDDEN", variant: "Forbidden" },
  { name: "an unknown type from a participant", before: [], step: { type: "Vote", sender: ALICE, payload: new Uint8Array() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // ApprovalRequest (§9.3).
  { name: "an undecodable ApprovalRequest", before: [], step: { type: "ApprovalRequest", sender: COORDINATOR, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second ApprovalRequest", before: [REQUEST], step: { type: "ApprovalRequest", sender: COORDINATOR, payload: request({ requestId: "r2" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an empty request_id", before: [], step: { type: "ApprovalRequest", sender: COORDINATOR, payload: request({ requestId: "" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "required_approvals of 0", before: [], step: { type: "ApprovalRequest", sender: COORDINATOR, payload: request({ requiredApprovals: 0 }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "required_approvals above the participant count", before: [], step: { type: "ApprovalRequest", sender: COORDINATOR, payload: request({ requiredApprovals: 4 }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Ballots.
  { name: "Approve before any ApprovalRequest", before: [], step: vote("Approve", ALICE), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "an undecodable Reject", before: [REQUEST], step: { type: "Reject", sender: ALICE, payload: GARBAGE }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a ballot for another request_id", before: [REQUEST], step: { type: "Abstain", sender: ALICE, payload: ballot("Abstain", "r2") }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second ballot of the same kind", before: [REQUEST, vote("Approve", ALICE)], step: vote("Approve", ALICE), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "a second ballot of another kind", before: [REQUEST, vote("Abstain", ALICE)], step: vote("Reject", ALICE), code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  // Commitment.
  { name: "Commitment before any request", before: [], step: { type: "Commitment", sender: COORDINATOR, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment while the threshold is still reachable (§9.5: alice Approve)", before: [REQUEST, vote("Approve", ALICE)], step: { type: "Commitment", sender: COORDINATOR, payload: commit() }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment with a mismatched mode_version", before: [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)], step: { type: "Commitment", sender: COORDINATOR, payload: commit({ modeVersion: "2.0.0" }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
  { name: "Commitment 'quorum.approved' with outcome_positive=false", before: [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)], step: { type: "Commitment", sender: COORDINATOR, payload: commit({ outcomePositive: false }) }, code: "INVALID_ENVELOPE", variant: "InvalidPayload" },
];

describe("quorum rejections carry the exact code", () => {
  it.each(REJECTIONS)("$name → $code", ({ before, step, code, variant }) => {
    const state = frozenCopy(run(quorumMode, session, before));
    expectRejected(quorumMode.apply(session, state, envelope(step.type, step.sender, step.payload)), code, variant);
  });

  it("rejects stored state that is not quorum state", () => {
    expectRejected(
      quorumMode.apply(session, { request: "r1", ballots: {} }, envelope("Approve", ALICE, ballot("Approve"))),
      "INVALID_ENVELOPE",
      "InvalidModeState",
    );
  });
});

function commitOutcome(policy: PolicyDefinition | null, steps: readonly Step[], fields: Partial<CommitmentPayload> = {}) {
  const on = sessionView(MODE, COORDINATOR, PARTICIPANTS, policy);
  return quorumMode.apply(on, run(quorumMode, on, steps), envelope("Commitment", COORDINATOR, commit(fields, on)));
}

describe("quorum readiness (§9.4, worked cases §9.5)", () => {
  const rejected = { action: "quorum.rejected", outcomePositive: false };
  it.each([
    ["alice + bob Approve (threshold met)", [vote("Approve", ALICE), vote("Approve", BOB)], {}],
    ["alice + bob Reject (unreachable: 0+1<2)", [vote("Reject", ALICE), vote("Reject", BOB)], rejected],
    ["all three Abstain (unreachable), negative outcome", [vote("Abstain", ALICE), vote("Abstain", BOB), vote("Abstain", CAROL)], rejected],
    ["threshold met, negative outcome (polarity is not cross-checked)", [vote("Approve", ALICE), vote("Approve", BOB)], rejected],
  ])("accepts a Commitment after %s", (_name, ballots, fields) => {
    expect(commitOutcome(null, [REQUEST, ...ballots], fields).kind).toBe("accepted");
  });

  it("percentage threshold 50 of 3 needs ceil(1.5) = 2 approvals", () => {
    const percentage = customPolicy({ threshold: { type: "percentage", value: 50 } });
    expectRejected(commitOutcome(percentage, [REQUEST, vote("Approve", ALICE)]), "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("n_of_m threshold 1 replaces required_approvals 3", () => {
    const oneOf = customPolicy({ threshold: { type: "n_of_m", value: 1 } });
    const steps = [{ ...REQUEST, payload: request({ requiredApprovals: 3 }) }, vote("Approve", ALICE)];
    expect(commitOutcome(oneOf, steps).kind).toBe("accepted");
  });

  it("a fractional count threshold truncates to 0: ready at once, so only the evaluator's participation check stops it", () => {
    const half = customPolicy({ threshold: { type: "n_of_m", value: 0.5 } });
    const error = expectRejected(commitOutcome(half, [REQUEST]), "POLICY_DENIED", "PolicyDenied");
    expect(error.details?.reasons).toEqual(["quorum not met: 0 effective voters of 3 participants (threshold: 0.5 n_of_m)"]);
    expect(commitOutcome(half, [REQUEST, vote("Reject", ALICE)], { action: "quorum.rejected", outcomePositive: false }).kind).toBe("accepted");
  });

  it("checks required_approvals against the payload even when a policy overrides it", () => {
    const on = sessionView(MODE, COORDINATOR, PARTICIPANTS, customPolicy({ threshold: { type: "n_of_m", value: 1 } }));
    const outcome = quorumMode.apply(on, run(quorumMode, on, []), envelope("ApprovalRequest", COORDINATOR, request({ requiredApprovals: 9 })));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });
});

describe("quorum policy evaluation (§12.10)", () => {
  it.each([
    [
      "abstentions not counted: 2 effective voters of 3",
      { threshold: { type: "n_of_m", value: 3 }, abstention: { counts_toward_quorum: false } },
      [vote("Approve", ALICE), vote("Approve", BOB), vote("Abstain", CAROL)],
      {},
      "quorum not met: 2 effective voters of 3 participants (threshold: 3 n_of_m)",
    ],
    [
      "a single Reject even for quorum.rejected",
      { threshold: { type: "n_of_m", value: 3 } },
      [vote("Reject", ALICE)],
      { action: "quorum.rejected", outcomePositive: false },
      "quorum not met: 1 effective voters of 3 participants (threshold: 3 n_of_m)",
    ],
  ])("denies with POLICY_DENIED: %s", (_name, rules, ballots, fields, reason) => {
    const error = expectRejected(commitOutcome(customPolicy(rules), [REQUEST, ...ballots], fields), "POLICY_DENIED", "PolicyDenied");
    expect(error.details?.reasons).toEqual([reason]);
  });

  it("allows when abstentions count toward the quorum", () => {
    const rules = { threshold: { type: "n_of_m", value: 3 }, abstention: { counts_toward_quorum: true } };
    const ballots = [vote("Approve", ALICE), vote("Approve", BOB), vote("Abstain", CAROL)];
    expect(commitOutcome(customPolicy(rules), [REQUEST, ...ballots]).kind).toBe("accepted");
  });

  it("denies every Commitment under schema_version 3", () => {
    const error = expectRejected(
      commitOutcome(customPolicy({}, 3), [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)]),
      "POLICY_DENIED",
      "PolicyDenied",
    );
    expect(error.details?.reasons).toEqual(["unsupported policy schema version: 3 (supported: [1, 2])"]);
  });

  it("lets any participant commit under any_participant authority", () => {
    const on = sessionView(MODE, COORDINATOR, PARTICIPANTS, customPolicy({ commitment: { authority: "any_participant" } }));
    const state = run(quorumMode, on, [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)]);
    expect(quorumMode.apply(on, state, envelope("Commitment", CAROL, commit({}, on))).kind).toBe("accepted");
    expectRejected(quorumMode.apply(on, state, envelope("Commitment", OUTSIDER, commit({}, on))), "FORBIDDEN", "Forbidden");
  });
});

describe("quorum state", () => {
  it("stores the request and ballots keyed by sender in byte order", () => {
    const state: JsonValue = run(quorumMode, session, [
      { ...REQUEST, payload: request({ details: Uint8Array.of(1, 2) }) },
      vote("Reject", CAROL),
      vote("Approve", ALICE),
    ]);
    expect(JSON.stringify(state)).toBe(
      JSON.stringify({
        request: { request_id: "r1", action: "deploy", summary: "Deploy v2", details: [1, 2], required_approvals: 2, requested_by: COORDINATOR },
        ballots: {
          [ALICE]: { request_id: "r1", choice: "Approve", sender: ALICE, reason: "because" },
          [CAROL]: { request_id: "r1", choice: "Reject", sender: CAROL, reason: "because" },
        },
      }),
    );
  });

  it("resolves with the Commitment bytes and leaves the state unchanged", () => {
    const state = frozenCopy(run(quorumMode, session, [REQUEST, vote("Approve", ALICE), vote("Approve", BOB)]));
    const payload = commit();
    expect(quorumMode.apply(session, state, envelope("Commitment", COORDINATOR, payload))).toEqual({
      kind: "accepted",
      state,
      resolution: payload,
    });
  });
});
