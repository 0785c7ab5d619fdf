import { proposal as wire } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { proposalMode } from "../src/index.js";
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

const MODE = "macp.mode.proposal.v1";
const BUYER = "agent://buyer";
const SELLER = "agent://seller";
const session = sessionView(MODE, BUYER, [BUYER, SELLER]);

const propose = (sender: string, proposalId = "p1"): Step => ({
  type: "Proposal",
  sender,
  payload: wire.ProposalPayload.encode({ proposalId, title: "offer", summary: "terms", details: Uint8Array.of(7, 8), tags: ["t"] }).finish(),
});
const counter = (sender: string, proposalId: string, supersedesProposalId: string): Step => ({
  type: "CounterProposal",
  sender,
  payload: wire.CounterProposalPayload.encode({ proposalId, supersedesProposalId, title: "counter", summary: "s", details: new Uint8Array() }).finish(),
});
const accept = (sender: string, proposalId = "p1"): Step => ({
  type: "Accept",
  sender,
  payload: wire.AcceptPayload.encode({ proposalId, reason: "" }).finish(),
});
const reject = (sender: string, proposalId = "p1", terminal = false): Step => ({
  type: "Reject",
  sender,
  payload: wire.RejectPayload.encode({ proposalId, terminal, reason: "no" }).finish(),
});
const withdraw = (sender: string, proposalId = "p1"): Step => ({
  type: "Withdraw",
  sender,
  payload: wire.WithdrawPayload.encode({ proposalId, reason: "" }).finish(),
});
const commit = (sender: string, overrides: Parameters<typeof commitmentBytes>[0] = {}): Step => ({
  type: "Commitment",
  sender,
  payload: commitmentBytes(overrides),
});
const raw = (type: string, sender: string, payload: Uint8Array): Step => ({ type, sender, payload });
const GARBAGE = Uint8Array.of(0x0a, 0x09, 0x70);

const initial = acceptedState(proposalMode.start(session, startPayload(session)));
const proposed = run(proposalMode, session, [propose(SELLER)]);
const converged = run(proposalMode, session, [propose(SELLER), accept(BUYER), accept(SELLER)]);
const withdrawn = run(proposalMode, session, [propose(SELLER), withdraw(SELLER)]);
const committed = run(proposalMode, session, [propose(SELLER), accept(BUYER), accept(SELLER), commit(BUYER)]);
const oneRound = sessionView(MODE, BUYER, [BUYER, SELLER], customPolicy({ counter_proposal: { max_rounds: 1 } }));

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
  // §6.2 authorization.
  { name: "Proposal from an outsider", state: initial, step: propose("agent://x"), code: "FORBIDDEN", variant: "Forbidden", message: /not a declared participant/ },
  { name: "Accept from an outsider", state: proposed, step: accept("agent://x"), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "unknown type from an outsider", state: initial, step: raw("Vote", "agent://x", new Uint8Array()), code: "FORBIDDEN", variant: "Forbidden", message: /participant/ },
  { name: "Commitment from a participant under initiator_only", state: converged, step: commit(SELLER), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unauthorized Commitment with an invalid payload", state: converged, step: raw("Commitment", SELLER, GARBAGE), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unknown type from a participant", state: proposed, step: raw("Vote", SELLER, new Uint8Array()), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not part of proposal mode/ },
  // Stored state and the Committed guard.
  { name: "unreadable stored state", state: { proposals: {} }, step: propose(SELLER), code: "INVALID_ENVELOPE", variant: "InvalidModeState", message: /stored mode state/ },
  { name: "Proposal after the Commitment", state: committed, step: propose(SELLER, "p2"), code: "SESSION_NOT_OPEN", variant: "SessionNotOpen", message: /committed/ },
  { name: "Commitment after the Commitment", state: committed, step: commit(BUYER), code: "SESSION_NOT_OPEN", variant: "SessionNotOpen", message: /committed/ },
  // Proposal.
  { name: "undecodable Proposal", state: initial, step: raw("Proposal", SELLER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "empty Proposal payload", state: initial, step: raw("Proposal", SELLER, new Uint8Array()), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id/ },
  { name: "blank proposal_id", state: initial, step: propose(SELLER, " "), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id/ },
  { name: "reused proposal_id", state: proposed, step: propose(BUYER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already used/ },
  { name: "reused id of a withdrawn proposal", state: withdrawn, step: propose(SELLER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already used/ },
  // CounterProposal.
  { name: "undecodable CounterProposal", state: proposed, step: raw("CounterProposal", BUYER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "CounterProposal with a blank proposal_id", state: proposed, step: counter(BUYER, "", "p1"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id must/ },
  { name: "CounterProposal with a blank supersedes_proposal_id (fixture)", state: initial, step: counter(SELLER, "p2", ""), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /supersedes_proposal_id/ },
  { name: "CounterProposal reusing an id", state: proposed, step: counter(BUYER, "p1", "p1"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already used/ },
  { name: "CounterProposal of an unknown proposal", state: proposed, step: counter(BUYER, "p2", "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not exist/ },
  {
    name: "CounterProposal beyond counter_proposal.max_rounds",
    state: run(proposalMode, oneRound, [propose(SELLER), counter(BUYER, "p2", "p1")]),
    step: counter(SELLER, "p3", "p2"),
    code: "INVALID_ENVELOPE",
    variant: "InvalidPayload",
    message: /limit reached: 1 of 1/,
    on: oneRound,
  },
  // Accept.
  { name: "undecodable Accept", state: proposed, step: raw("Accept", BUYER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "Accept of an unknown proposal", state: proposed, step: accept(BUYER, "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not a live proposal/ },
  { name: "Accept of a withdrawn proposal", state: withdrawn, step: accept(BUYER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not a live proposal/ },
  // Reject.
  { name: "undecodable Reject", state: proposed, step: raw("Reject", BUYER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "Reject of an unknown proposal", state: proposed, step: reject(BUYER, "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not a live proposal/ },
  { name: "Reject of a withdrawn proposal", state: withdrawn, step: reject(BUYER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not a live proposal/ },
  // Withdraw.
  { name: "undecodable Withdraw", state: proposed, step: raw("Withdraw", SELLER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "Withdraw with a blank proposal_id", state: proposed, step: withdraw(SELLER, "\t"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /proposal_id/ },
  { name: "Withdraw of an unknown proposal", state: proposed, step: withdraw(SELLER, "p9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown proposal/ },
  { name: "Withdraw by someone other than the proposer", state: proposed, step: withdraw(BUYER), code: "FORBIDDEN", variant: "Forbidden", message: /only the proposer/ },
  { name: "Withdraw by a non-proposer of a withdrawn proposal", state: withdrawn, step: withdraw(BUYER), code: "FORBIDDEN", variant: "Forbidden", message: /only the proposer/ },
  { name: "second Withdraw", state: withdrawn, step: withdraw(SELLER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already withdrawn/ },
  // Commitment.
  { name: "Commitment while Negotiating (fixture)", state: initial, step: commit(BUYER, { policyVersion: "", action: "proposal.accepted" }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /converged or terminally rejected/ },
  { name: "Commitment after the only proposal was withdrawn", state: run(proposalMode, session, [propose(SELLER), accept(BUYER), accept(SELLER), withdraw(SELLER)]), step: commit(BUYER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /converged/ },
  { name: "Commitment with an invalid payload", state: converged, step: commit(BUYER, { commitmentId: "" }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /commitment_id/ },
  { name: "Commitment payload checks precede readiness", state: initial, step: commit(BUYER, { configurationVersion: "cfg-9" }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /configuration_version/ },
];

describe("proposal mode rejects", () => {
  it.each(rejections.map((rejection) => [rejection.name, rejection] as const))("%s", (_name, rejection) => {
    const outcome = proposalMode.apply(rejection.on ?? session, frozenCopy(rejection.state), envelope(rejection.step.type, rejection.step.sender, rejection.step.payload));
    const error = expectRejected(outcome, rejection.code, rejection.variant);
    expect(error.message).toMatch(rejection.message);
  });

  it("denies a Commitment under an unsupported policy schema_version (POLICY_DENIED)", () => {
    const v3 = sessionView(MODE, BUYER, [BUYER, SELLER], customPolicy({}, 3));
    const state = run(proposalMode, v3, [propose(SELLER), accept(BUYER), accept(SELLER)]);
    const outcome = proposalMode.apply(v3, state, envelope("Commitment", BUYER, commitmentBytes({ policyVersion: "policy.custom" })));
    const error = expectRejected(outcome, "POLICY_DENIED", "PolicyDenied");
    expect(error.details?.reasons).toEqual(["unsupported policy schema version: 3 (supported: [1, 2])"]);
  });
});

describe("proposal mode SessionStart", () => {
  it("builds the initial state of §6.1", () => {
    expect(JSON.stringify(initial)).toBe('{"proposals":{},"accepts":{},"terminal_rejections":[],"rejections":[],"phase":"Negotiating"}');
  });

  it("rejects an empty participant list", () => {
    const empty = sessionView(MODE, BUYER, []);
    expectRejected(proposalMode.start(empty, startPayload(empty)), "INVALID_ENVELOPE", "InvalidPayload");
  });
});

describe("proposal mode happy paths", () => {
  it("converges when all parties accept and resolves with the Commitment bytes", () => {
    expect(converged).toMatchObject({ phase: "Converged" });
    const payload = commitmentBytes({ action: "proposal.accepted", policyVersion: "" });
    const outcome = proposalMode.apply(session, frozenCopy(converged), envelope("Commitment", BUYER, payload));
    expect(outcome).toEqual({ kind: "accepted", state: { ...(converged as object), phase: "Committed" }, resolution: payload });
  });

  it("stores records in declaration order with bytes as integer arrays", () => {
    const state = run(proposalMode, session, [propose(SELLER), counter(BUYER, "p2", "p1"), reject(BUYER, "p1"), accept(SELLER, "p2")]);
    expect(JSON.stringify(state)).toBe(
      JSON.stringify({
        proposals: {
          p1: { proposal_id: "p1", title: "offer", summary: "terms", details: [7, 8], tags: ["t"], proposer: SELLER, supersedes_proposal_id: null, disposition: "Live" },
          p2: { proposal_id: "p2", title: "counter", summary: "s", details: [], tags: [], proposer: BUYER, supersedes_proposal_id: "p1", disposition: "Live" },
        },
        accepts: { [SELLER]: "p2" },
        terminal_rejections: [],
        rejections: [{ proposal_id: "p1", sender: BUYER, reason: "no", terminal: false }],
        phase: "Negotiating",
      }),
    );
  });

  const criteria: ReadonlyArray<[string, JsonValue, readonly Step[], string]> = [
    ["all_parties needs every participant", {}, [propose(SELLER), accept(BUYER)], "Negotiating"],
    ["an unknown criterion means all_parties", { acceptance: { criterion: "vibes" } }, [propose(SELLER), accept(BUYER)], "Negotiating"],
    ["counterparty: the proposer need not accept", { acceptance: { criterion: "counterparty" } }, [propose(SELLER), accept(BUYER)], "Converged"],
    ["counterparty: the proposer's own accept is not enough", { acceptance: { criterion: "counterparty" } }, [propose(SELLER), accept(SELLER)], "Negotiating"],
    ["initiator: the initiator's accept converges", { acceptance: { criterion: "initiator" } }, [propose(SELLER), accept(BUYER)], "Converged"],
    ["initiator: another participant's accept does not", { acceptance: { criterion: "initiator" } }, [propose(SELLER), accept(SELLER)], "Negotiating"],
    ["a rules shape that does not parse falls back to all_parties", { acceptance: "x" }, [propose(SELLER), accept(BUYER)], "Negotiating"],
    ["terminal_on_any_reject makes every Reject terminal", { rejection: { terminal_on_any_reject: true } }, [propose(SELLER), reject(BUYER)], "TerminalRejected"],
    ["a Reject is not terminal by default", {}, [propose(SELLER), reject(BUYER)], "Negotiating"],
    ["a terminal Reject wins over convergence", {}, [propose(SELLER), accept(BUYER), accept(SELLER), propose(BUYER, "p2"), reject(SELLER, "p2", true)], "TerminalRejected"],
    ["withdrawing the rejected proposal clears the terminal rejection", {}, [propose(SELLER), reject(BUYER, "p1", true), withdraw(SELLER)], "Negotiating"],
    ["moving an accept reverts Converged", {}, [propose(SELLER), propose(BUYER, "p2"), accept(BUYER), accept(SELLER), accept(BUYER, "p2")], "Negotiating"],
    ["withdrawing the converged proposal reverts Converged and drops its accepts", {}, [propose(SELLER), accept(BUYER), accept(SELLER), withdraw(SELLER)], "Negotiating"],
    ["a withdrawn proposal can still be countered", {}, [propose(SELLER), withdraw(SELLER), counter(BUYER, "p2", "p1"), accept(BUYER, "p2"), accept(SELLER, "p2")], "Converged"],
  ];

  it.each(criteria)("%s", (_name, rules, steps, phase) => {
    const on = sessionView(MODE, BUYER, [BUYER, SELLER], customPolicy(rules));
    expect(run(proposalMode, on, steps)).toMatchObject({ phase });
  });

  it("Withdraw keeps the audit trail but removes accepts and terminal rejections of the proposal", () => {
    const state = run(proposalMode, session, [propose(SELLER), propose(BUYER, "p2"), accept(BUYER), accept(SELLER, "p2"), reject(BUYER, "p1", true), withdraw(SELLER)]);
    expect(state).toMatchObject({
      accepts: { [SELLER]: "p2" },
      terminal_rejections: [],
      rejections: [{ proposal_id: "p1", sender: BUYER, reason: "no", terminal: true }],
      proposals: { p1: { disposition: "Withdrawn" } },
    });
    expect(Object.keys((state as { accepts: object }).accepts)).toEqual([SELLER]);
  });

  it("allows max_rounds counter-proposals, counting withdrawn ones", () => {
    const two = sessionView(MODE, BUYER, [BUYER, SELLER], customPolicy({ counter_proposal: { max_rounds: 2 } }));
    const state = run(proposalMode, two, [propose(SELLER), counter(BUYER, "p2", "p1"), withdraw(BUYER, "p2"), counter(SELLER, "p3", "p1")]);
    const outcome = proposalMode.apply(two, state, envelope("CounterProposal", BUYER, counter(BUYER, "p4", "p3").payload));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });

  it("accepts a negative Commitment after a terminal rejection", () => {
    const state = run(proposalMode, session, [propose(SELLER), reject(BUYER, "p1", true), commit(BUYER, { action: "proposal.rejected", outcomePositive: false })]);
    expect(state).toMatchObject({ phase: "Committed", terminal_rejections: [{ proposal_id: "p1" }] });
  });

  it("accepts either polarity once converged (§2.4)", () => {
    const state = run(proposalMode, session, [propose(SELLER), accept(BUYER), accept(SELLER), commit(BUYER, { action: "proposal.rejected", outcomePositive: false })]);
    expect(state).toMatchObject({ phase: "Committed" });
  });
});
