import { decision } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { decisionMode } from "../src/index.js";
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

const MODE = "macp.mode.decision.v1";
const ORCH = "agent://orch";
const A = "agent://a";
const B = "agent://b";
const session = sessionView(MODE, ORCH, [ORCH, A, B]);

const proposal = (sender: string, proposalId = "p1", option = "deploy"): Step => ({
  type: "Proposal",
  sender,
  payload: decision.ProposalPayload.encode({ proposalId, option, rationale: "why", supportingData: Uint8Array.of(1) }).finish(),
});
const evaluation = (sender: string, recommendation: string, confidence = 0.5, proposalId = "p1"): Step => ({
  type: "Evaluation",
  sender,
  payload: decision.EvaluationPayload.encode({ proposalId, recommendation, confidence, reason: "r" }).finish(),
});
const objection = (sender: string, severity: string, proposalId = "p1"): Step => ({
  type: "Objection",
  sender,
  payload: decision.ObjectionPayload.encode({ proposalId, reason: "", severity }).finish(),
});
const vote = (sender: string, value: string, proposalId = "p1"): Step => ({
  type: "Vote",
  sender,
  payload: decision.VotePayload.encode({ proposalId, vote: value, reason: "because" }).finish(),
});
const commit = (sender: string, overrides: Parameters<typeof commitmentBytes>[0] = {}): Step => ({
  type: "Commitment",
  sender,
  payload: commitmentBytes(overrides),
});
const raw = (type: string, sender: string, payload: Uint8Array): Step => ({ type, sender, payload });
const GARBAGE = Uint8Array.of(0x0a, 0x09, 0x70);

const initial = acceptedState(decisionMode.start(session, startPayload(session)));
const afterProposal = run(decisionMode, session, [proposal(ORCH)]);
const afterVote = run(decisionMode, session, [proposal(ORCH), vote(A, "approve")]);
const committed = run(decisionMode, session, [proposal(ORCH), commit(ORCH)]);

interface Rejection {
  readonly name: string;
  readonly state: JsonValue;
  readonly step: Step;
  readonly code: string;
  readonly variant: string;
  readonly message: RegExp;
  readonly on?: typeof session;
}

const rejections: readonly Rejection[] = [
  // §5.4 authorization comes first and answers FORBIDDEN.
  { name: "Proposal from an outsider", state: initial, step: proposal("agent://x"), code: "FORBIDDEN", variant: "Forbidden", message: /not a declared participant/ },
  { name: "Evaluation from an outsider", state: afterProposal, step: evaluation("agent://x", "APPROVE"), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "Objection from an outsider", state: afterProposal, step: objection("agent://x", "high"), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "Vote from an outsider", state: afterProposal, step: vote("agent://x", "APPROVE"), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "outsider message with an undecodable payload (auth before payload)", state: initial, step: raw("Proposal", "agent://x", GARBAGE), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "Proposal from a non-participant initiator", state: initial, step: proposal("agent://boss"), code: "FORBIDDEN", variant: "Forbidden", message: /participant/, on: sessionView(MODE, "agent://boss", [A, B]) },
  { name: "Commitment from a participant under initiator_only", state: afterVote, step: commit(A), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unauthorized Commitment with an invalid payload", state: afterVote, step: raw("Commitment", B, GARBAGE), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unknown type from a participant", state: afterProposal, step: raw("Accept", A, new Uint8Array()), code: "FORBIDDEN", variant: "Forbidden", message: /not allowed in decision mode/ },
  { name: "SessionStart type inside the session", state: initial, step: raw("SessionStart", ORCH, new Uint8Array()), code: "FORBIDDEN", variant: "Forbidden", message: /not allowed/ },
  // Stored state and the Committed guard.
  { name: "unreadable stored state", state: { phase: "Voting" }, step: vote(A, "APPROVE"), code: "INVALID_ENVELOPE", variant: "InvalidModeState", message: /stored mode state/ },
  { name: "unknown stored phase", state: { ...(initial as object), phase: "Done" }, step: proposal(A), code: "INVALID_ENVELOPE", variant: "InvalidModeState", message: /phase/ },
  { name: "Proposal after the Commitment", state: committed, step: proposal(A, "p2"), code: "SESSION_NOT_OPEN", variant: "SessionNotOpen", message: /committed/ },
  { name: "Vote after the Commitment", state: committed, step: vote(A, "APPROVE"), code: "SESSION_NOT_OPEN", variant: "SessionNotOpen", message: /committed/ },
  { name: "Commitment after the Commitment", state: committed, step: commit(ORCH, { commitmentId: "c2" }), code: "SESSION_NOT_OPEN", variant: "SessionNotOpen", message: /committed/ },
  // Proposal.
  { name: "Proposal once voting started", state: afterVote, step: proposal(B, "p2"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /voting has started/ },
  { name: "Proposal phase check precedes decoding", state: afterVote, step: raw("Proposal", B, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /voting has started/ },
  { name: "undecodable Proposal", state: initial, step: raw("Proposal", A, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "Proposal with invalid UTF-8 in proposal_id", state: initial, step: raw("Proposal", A, Uint8Array.of(0x0a, 0x01, 0xc3)), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /decode|UTF-8/i },
  { name: "empty Proposal payload", state: initial, step: raw("Proposal", A, new Uint8Array()), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id/ },
  { name: "blank proposal_id", state: initial, step: proposal(A, "  "), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id/ },
  { name: "blank option", state: initial, step: proposal(A, "p1", "\n"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /option/ },
  { name: "duplicate proposal_id", state: afterProposal, step: proposal(B, "p1", "other"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already exists/ },
  // Evaluation.
  { name: "undecodable Evaluation", state: afterProposal, step: raw("Evaluation", A, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "unknown recommendation", state: afterProposal, step: evaluation(A, "MAYBE"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /recommendation/ },
  { name: "empty recommendation", state: afterProposal, step: evaluation(A, ""), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /recommendation/ },
  { name: "confidence below 0", state: afterProposal, step: evaluation(A, "APPROVE", -0.01), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /confidence/ },
  { name: "confidence above 1", state: afterProposal, step: evaluation(A, "APPROVE", 1.01), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /confidence/ },
  { name: "NaN confidence (deliberately stricter than the reference)", state: afterProposal, step: evaluation(A, "APPROVE", Number.NaN), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /confidence/ },
  { name: "Evaluation before any proposal", state: initial, step: evaluation(A, "APPROVE"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /phase Proposal/ },
  { name: "Evaluation after voting started (fixture value 'approve')", state: afterVote, step: evaluation(B, "approve", 0.7), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /phase Voting/ },
  { name: "enum check precedes the phase check", state: afterVote, step: evaluation(B, "nope"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /recommendation/ },
  { name: "Evaluation of an unknown proposal", state: afterProposal, step: evaluation(A, "APPROVE", 0.5, "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown proposal/ },
  // Objection.
  { name: "undecodable Objection", state: afterProposal, step: raw("Objection", A, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "unknown severity", state: afterProposal, step: objection(A, "severe"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /severity/ },
  { name: "Objection before any proposal", state: initial, step: objection(A, "low"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /phase Proposal/ },
  { name: "Objection after voting started", state: afterVote, step: objection(B, "low"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /phase Voting/ },
  { name: "Objection to an unknown proposal", state: afterProposal, step: objection(A, "low", "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown proposal/ },
  // Vote.
  { name: "undecodable Vote", state: afterProposal, step: raw("Vote", A, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "unknown vote value", state: afterProposal, step: vote(A, "YES"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown vote/ },
  { name: "Vote before any proposal", state: initial, step: vote(A, "APPROVE"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /phase Proposal/ },
  { name: "Vote on an unknown proposal", state: afterProposal, step: vote(A, "APPROVE", "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown proposal/ },
  { name: "second Vote on the same proposal", state: afterVote, step: vote(A, "REJECT"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already voted/ },
  // Commitment.
  { name: "Commitment with an invalid payload", state: afterVote, step: commit(ORCH, { reason: " " }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /reason/ },
  { name: "Commitment with a foreign policy_version", state: afterVote, step: commit(ORCH, { policyVersion: "policy.x" }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /policy_version/ },
  { name: "Commitment before any proposal", state: initial, step: commit(ORCH), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /at least one proposal/ },
  { name: "negative Commitment before any proposal", state: initial, step: commit(ORCH, { action: "decision.rejected", outcomePositive: false }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /at least one proposal/ },
];

describe("decision mode rejects", () => {
  it.each(rejections.map((rejection) => [rejection.name, rejection] as const))("%s", (_name, rejection) => {
    const outcome = decisionMode.apply(rejection.on ?? session, frozenCopy(rejection.state), envelope(rejection.step.type, rejection.step.sender, rejection.step.payload));
    const error = expectRejected(outcome, rejection.code, rejection.variant);
    expect(error.message).toMatch(rejection.message);
  });
});

describe("decision mode SessionStart", () => {
  it("builds the initial state of §5.1", () => {
    expect(JSON.stringify(initial)).toBe('{"proposals":{},"evaluations":[],"objections":[],"votes":{},"phase":"Proposal"}');
  });

  it("rejects an empty participant list", () => {
    const empty = sessionView(MODE, ORCH, []);
    expectRejected(decisionMode.start(empty, startPayload(empty)), "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("accepts an initiator that is not a participant", () => {
    const outsiderInitiator = sessionView(MODE, "agent://boss", [A]);
    expect(decisionMode.start(outsiderInitiator, startPayload(outsiderInitiator)).kind).toBe("accepted");
  });
});

describe("decision mode happy paths", () => {
  it("moves Proposal → Evaluation → Voting → Committed and resolves with the Commitment bytes", () => {
    const evaluating = run(decisionMode, session, [proposal(ORCH)]);
    expect(evaluating).toMatchObject({ phase: "Evaluation" });
    const voting = run(decisionMode, session, [proposal(ORCH), vote(A, "APPROVE")]);
    expect(voting).toMatchObject({ phase: "Voting" });
    const payload = commitmentBytes({ action: "decision.selected" });
    const outcome = decisionMode.apply(session, frozenCopy(voting), envelope("Commitment", ORCH, payload));
    expect(outcome).toEqual({ kind: "accepted", state: { ...(voting as object), phase: "Committed" }, resolution: payload });
  });

  it("stores normalized enums and drops supporting_data, in declaration order", () => {
    const state = run(decisionMode, session, [
      proposal(ORCH),
      evaluation(A, "approve", 0.9),
      evaluation(A, "Review", 1),
      objection(B, ""),
      objection(B, "CRITICAL"),
      vote(B, "abstain"),
    ]);
    expect(JSON.stringify(state)).toBe(
      JSON.stringify({
        proposals: { p1: { proposal_id: "p1", option: "deploy", rationale: "why", sender: ORCH } },
        evaluations: [
          { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.9, reason: "r", sender: A },
          { proposal_id: "p1", recommendation: "REVIEW", confidence: 1, reason: "r", sender: A },
        ],
        objections: [
          { proposal_id: "p1", reason: "", severity: "medium", sender: B },
          { proposal_id: "p1", reason: "", severity: "critical", sender: B },
        ],
        votes: { p1: { [B]: { proposal_id: "p1", vote: "ABSTAIN", reason: "because", sender: B } } },
        phase: "Voting",
      }),
    );
  });

  it("keeps proposals, voters and vote maps in byte-wise key order", () => {
    const state = run(decisionMode, session, [
      proposal(A, "\u{1F600}"),
      proposal(A, "\uFFFD"),
      proposal(A, "b"),
      proposal(A, "B"),
      vote(B, "REJECT", "b"),
      vote(A, "APPROVE", "b"),
      vote(ORCH, "APPROVE", "b"),
    ]) as { proposals: object; votes: { b: object } };
    expect(Object.keys(state.proposals)).toEqual(["B", "b", "\uFFFD", "\u{1F600}"]);
    expect(Object.keys(state.votes.b)).toEqual([A, B, ORCH]);
  });

  it("treats ids named like Object.prototype members as ordinary ids", () => {
    const state = run(decisionMode, session, [proposal(A, "__proto__"), vote(B, "APPROVE", "__proto__")]);
    expect(Object.keys((state as { proposals: object }).proposals)).toEqual(["__proto__"]);
    expect(Object.keys((state as { votes: object }).votes)).toEqual(["__proto__"]);
    const unknown = decisionMode.apply(session, state, envelope("Vote", ORCH, vote(ORCH, "APPROVE", "constructor").payload));
    expectRejected(unknown, "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("allows proposals and evaluations until the first vote, and votes on several proposals", () => {
    const state = run(decisionMode, session, [
      proposal(A, "p1"),
      evaluation(B, "BLOCK", 0, "p1"),
      proposal(B, "p2"),
      objection(A, "low", "p2"),
      vote(A, "APPROVE", "p1"),
      vote(A, "REJECT", "p2"),
      vote(B, "APPROVE", "p2"),
    ]);
    expect(state).toMatchObject({ phase: "Voting", votes: { p1: { [A]: { vote: "APPROVE" } }, p2: { [A]: { vote: "REJECT" }, [B]: { vote: "APPROVE" } } } });
  });

  it("lets a non-participant initiator commit under the default policy (any polarity, no votes needed)", () => {
    const boss = sessionView(MODE, "agent://boss", [A, B]);
    const state = run(decisionMode, boss, [proposal(A), commit("agent://boss", { action: "decision.rejected", outcomePositive: false })]);
    expect(state).toMatchObject({ phase: "Committed" });
  });

  it("accepts a Commitment echoing an empty policy_version on policy.default (project decision 1)", () => {
    expect(run(decisionMode, session, [proposal(ORCH), commit(ORCH, { policyVersion: "" })])).toMatchObject({ phase: "Committed" });
  });

  it("lets any participant commit under commitment.authority any_participant", () => {
    const open = sessionView(MODE, ORCH, [ORCH, A, B], customPolicy({ commitment: { authority: "any_participant" } }));
    expect(run(decisionMode, open, [proposal(ORCH), commit(A, { policyVersion: "policy.custom" })])).toMatchObject({ phase: "Committed" });
  });

  it("commits without policy evaluation when no policy is bound (legacy replay)", () => {
    const legacy = sessionView(MODE, ORCH, [ORCH, A, B], null);
    expect(run(decisionMode, legacy, [proposal(ORCH), commit(ORCH, { policyVersion: "" })])).toMatchObject({ phase: "Committed" });
  });
});

describe("decision mode policy evaluation at Commitment (§12.9, §12.11)", () => {
  const majority = sessionView(MODE, ORCH, [ORCH, A, B], customPolicy({ voting: { algorithm: "majority" } }, 2));
  const custom = { policyVersion: "policy.custom" };
  const decline = { ...custom, action: "decision.rejected", outcomePositive: false };

  const cases: ReadonlyArray<[string, typeof session, readonly Step[], Step, readonly string[] | null]> = [
    ["majority: decline before any vote is denied (M3)", majority, [proposal(ORCH)], commit(ORCH, decline), ["no votes cast; a decline requires at least one explicit reject vote"]],
    ["majority: positive with no votes is allowed (NoVotes)", majority, [proposal(ORCH)], commit(ORCH, custom), null],
    ["majority: decline after two rejects is allowed", majority, [proposal(ORCH), vote(A, "reject"), vote(B, "REJECT")], commit(ORCH, decline), null],
    ["majority: positive after two rejects is denied", majority, [proposal(ORCH), vote(A, "REJECT"), vote(B, "REJECT")], commit(ORCH, custom), ["majority vote failed: 0.0% approve, need >= 50.0%"]],
    [
      "unsupported schema_version denies every Commitment",
      sessionView(MODE, ORCH, [ORCH, A, B], customPolicy({}, 3)),
      [proposal(ORCH)],
      commit(ORCH, custom),
      ["unsupported policy schema version: 3 (supported: [1, 2])"],
    ],
  ];

  it.each(cases)("%s", (_name, on, steps, final, reasons) => {
    const state = run(decisionMode, on, steps);
    const outcome = decisionMode.apply(on, frozenCopy(state), envelope(final.type, final.sender, final.payload));
    if (reasons === null) {
      expect(outcome.kind).toBe("accepted");
    } else {
      const error = expectRejected(outcome, "POLICY_DENIED", "PolicyDenied");
      expect(error.details?.reasons).toEqual(reasons);
    }
  });

  it("checks readiness (IE) before policy (PD)", () => {
    const outcome = decisionMode.apply(majority, frozenCopy(initial), envelope("Commitment", ORCH, commitmentBytes(decline)));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });
});
