import { CommitmentPayload, ModeId, encodePayload } from "@macp/protocol";
import { DEFAULT_POLICY, type JsonValue } from "@macp/policy";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decisionMode, handoffMode, multiRoundMode, proposalMode, quorumMode, taskMode } from "../src/index.js";
import type { ModeHandler, ModeOutcome } from "../src/index.js";
import { PersistentList } from "../src/state/persistent-list.js";
import { PersistentMap } from "../src/state/persistent-map.js";
import { envelope, sessionView, startPayload } from "./mode-test-kit.js";

describe("PersistentMap", () => {
  type Op = { base: number; kind: "set" | "delete"; key: number; value: number };
  const op = fc.record({
    base: fc.nat(),
    kind: fc.constantFrom("set" as const, "delete" as const),
    key: fc.integer({ min: 0, max: 6 }),
    value: fc.integer(),
  });

  it("keeps every version intact whichever versions are changed or read, in any order", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 20 }), (ops: Op[], reads: number[]) => {
        const versions = [PersistentMap.empty<number, number>()];
        const models = [new Map<number, number>()];
        for (const { base, kind, key, value } of ops) {
          const index = base % versions.length;
          const version = versions[index] as PersistentMap<number, number>;
          const model = new Map(models[index]);
          if (kind === "set") model.set(key, value);
          else model.delete(key);
          versions.push(kind === "set" ? version.set(key, value) : version.delete(key));
          models.push(model);
        }
        const sorted = (entries: [number, number][]) => entries.sort(([a], [b]) => a - b);
        for (const read of [...reads, ...versions.keys()]) {
          const index = read % versions.length;
          const version = versions[index] as PersistentMap<number, number>;
          const model = models[index] as Map<number, number>;
          expect(sorted(version.entries())).toEqual(sorted([...model.entries()]));
          expect(version.size).toBe(model.size);
          for (let key = 0; key <= 6; key += 1) expect(version.get(key)).toBe(model.get(key));
        }
      }),
    );
  });
});

describe("PersistentList", () => {
  it("keeps every version intact when older versions are appended to", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer()), { maxLength: 60 }), (appends) => {
        const versions = [PersistentList.empty<number>()];
        const models: number[][] = [[]];
        for (const [base, item] of appends) {
          const index = base % versions.length;
          versions.push((versions[index] as PersistentList<number>).append(item));
          models.push([...(models[index] as number[]), item]);
        }
        versions.forEach((version, index) => {
          expect(version.toArray()).toEqual(models[index]);
          expect([...version]).toEqual(models[index]);
        });
      }),
    );
  });
});

const commitment = (outcomePositive: boolean): Uint8Array =>
  CommitmentPayload.encode({
    commitmentId: "c1",
    action: "deploy",
    authorityScope: "test",
    reason: "done",
    modeVersion: "1.0.0",
    policyVersion: "policy.default",
    configurationVersion: "cfg-1",
    outcomePositive,
    supersedes: undefined,
  }).finish();

type Message = { type: string; sender: string; payload: Uint8Array };
const SENDERS = ["alice", "bob", "carol", "mallory"];
const sender = fc.constantFrom(...SENDERS);
const id = (prefix: string) => fc.constantFrom(`${prefix}1`, `${prefix}2`, `${prefix}3`);
const message = (mode: string, type: string, fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Message> =>
  fc.record({ sender, fields }).map(({ sender: from, fields: value }) => ({ type, sender: from, payload: encodePayload(mode, type, value) }));
const commit = fc.record({ sender, positive: fc.boolean() }).map(({ sender: from, positive }) => ({ type: "Commitment", sender: from, payload: commitment(positive) }));

const MODES: { name: string; mode: string; handler: ModeHandler; messages: fc.Arbitrary<Message> }[] = [
  {
    name: "decision",
    mode: ModeId.Decision,
    handler: decisionMode,
    messages: fc.oneof(
      message(ModeId.Decision, "Proposal", fc.record({ proposalId: id("p"), option: fc.constantFrom("x", "y") })),
      message(ModeId.Decision, "Evaluation", fc.record({ proposalId: id("p"), recommendation: fc.constantFrom("APPROVE", "REVIEW", "BLOCK"), confidence: fc.constantFrom(0.2, 0.9) })),
      message(ModeId.Decision, "Objection", fc.record({ proposalId: id("p"), severity: fc.constantFrom("critical", "low") })),
      message(ModeId.Decision, "Vote", fc.record({ proposalId: id("p"), vote: fc.constantFrom("APPROVE", "REJECT") })),
      commit,
    ),
  },
  {
    name: "quorum",
    mode: ModeId.Quorum,
    handler: quorumMode,
    messages: fc.oneof(
      message(ModeId.Quorum, "ApprovalRequest", fc.record({ requestId: id("r"), action: fc.constant("deploy"), requiredApprovals: fc.integer({ min: 1, max: 3 }) })),
      ...["Approve", "Reject", "Abstain"].map((type) => message(ModeId.Quorum, type, fc.record({ requestId: id("r") }))),
      commit,
    ),
  },
  {
    name: "multi_round",
    mode: ModeId.MultiRound,
    handler: multiRoundMode,
    messages: fc.oneof(message(ModeId.MultiRound, "Contribute", fc.record({ value: fc.constantFrom("a", "b") })), commit),
  },
  {
    name: "proposal",
    mode: ModeId.Proposal,
    handler: proposalMode,
    messages: fc.oneof(
      message(ModeId.Proposal, "Proposal", fc.record({ proposalId: id("p"), title: fc.constant("t") })),
      message(ModeId.Proposal, "CounterProposal", fc.record({ proposalId: id("p"), supersedesProposalId: id("p") })),
      message(ModeId.Proposal, "Accept", fc.record({ proposalId: id("p") })),
      message(ModeId.Proposal, "Reject", fc.record({ proposalId: id("p"), terminal: fc.boolean() })),
      message(ModeId.Proposal, "Withdraw", fc.record({ proposalId: id("p") })),
      commit,
    ),
  },
  {
    name: "handoff",
    mode: ModeId.Handoff,
    handler: handoffMode,
    messages: fc.oneof(
      message(ModeId.Handoff, "HandoffOffer", fc.record({ handoffId: id("h"), targetParticipant: sender })),
      message(ModeId.Handoff, "HandoffContext", fc.record({ handoffId: id("h"), contentType: fc.constant("text/plain") })),
      message(ModeId.Handoff, "HandoffAccept", fc.record({ handoffId: id("h") })),
      message(ModeId.Handoff, "HandoffDecline", fc.record({ handoffId: id("h") })),
      commit,
    ),
  },
  {
    name: "task",
    mode: ModeId.Task,
    handler: taskMode,
    messages: fc.oneof(
      message(ModeId.Task, "TaskRequest", fc.record({ taskId: id("t"), title: fc.constant("t"), requestedAssignee: fc.constantFrom("", "bob") })),
      message(ModeId.Task, "TaskAccept", fc.record({ taskId: id("t"), assignee: sender })),
      message(ModeId.Task, "TaskReject", fc.record({ taskId: id("t"), assignee: sender })),
      message(ModeId.Task, "TaskUpdate", fc.record({ taskId: id("t"), status: fc.constant("working"), progress: fc.constantFrom(0.5, 1) })),
      message(ModeId.Task, "TaskComplete", fc.record({ taskId: id("t"), assignee: sender, output: fc.constantFrom(new Uint8Array(), Uint8Array.of(1)) })),
      commit,
    ),
  },
];

/** The outcome without its state, which is compared once every later version exists. */
function summary(outcome: ModeOutcome): unknown {
  return outcome.kind === "accepted"
    ? { kind: "accepted", resolution: outcome.resolution ? [...outcome.resolution] : null }
    : { kind: "rejected", code: outcome.error.code, message: outcome.error.message };
}

describe("modes hand back state that behaves exactly like its stored JSON", () => {
  it.each(MODES)("$name: applying to returned states (and to older ones, as after a failed append) matches applying to re-read JSON", ({ mode, handler, messages }) => {
    const session = sessionView(mode, "alice", ["alice", "bob", "carol"], DEFAULT_POLICY);
    fc.assert(
      fc.property(fc.array(fc.tuple(messages, fc.nat(), fc.boolean()), { maxLength: 40 }), (steps) => {
        const start = handler.start(session, startPayload(session));
        if (start.kind !== "accepted") throw new Error("start rejected");
        // Returned states as the kernel keeps them, and the same states stored and read back.
        const live: JsonValue[] = [start.state];
        const stored: string[] = [JSON.stringify(start.state)];
        for (const [step, base, branch] of steps) {
          // Mostly continue from the newest state; sometimes from an older one.
          const index = branch ? base % live.length : live.length - 1;
          const env = envelope(step.type, step.sender, step.payload);
          const fromLive = handler.apply(session, live[index] as JsonValue, env);
          const fromStored = handler.apply(session, JSON.parse(stored[index] as string) as JsonValue, env);
          expect(summary(fromLive)).toEqual(summary(fromStored));
          if (fromLive.kind === "accepted" && fromStored.kind === "accepted") {
            live.push(fromLive.state);
            stored.push(JSON.stringify(fromStored.state));
          }
        }
        // Every state, first serialized now that later versions were made from it (newest first,
        // so the shared structures must be moved back), reads as the stored path computed it.
        for (let index = live.length - 1; index >= 0; index -= 1) expect(JSON.stringify(live[index])).toBe(stored[index]);
      }),
      { numRuns: 200 },
    );
  });
});
