#!/usr/bin/env node
// Records the golden session histories under packages/replay/fixtures/golden/ (see the README).
// Runs against the built packages: `npx -y pnpm@10 run build && node packages/replay/scripts/record-golden.mjs`.
// Every input is fixed (clock, ids, payloads), so re-recording unchanged code rewrites identical files;
// a diff means the kernel, a mode or the state layout changed what replay produces.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Kernel, ManualClock } from "@macp/core";
import { bytesToBase64, replayLog } from "@macp/core/internal";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION, encodeContributeProto, encodePayloadJson, int64ToJson } from "@macp/protocol";
import { hashSessionState, summarizeSession } from "@macp/replay";
import { MemoryStore } from "@macp/storage";

const OUT_DIR = join(import.meta.dirname, "..", "fixtures", "golden");
const T0 = 1_800_000_000_000;
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const BOB = "agent://bob";

/** One scripted session: `run` drives a kernel through the live path, as a daemon would. */
const SCENARIOS = [
  {
    name: "decision-vote-commitment",
    description: "Decision: a proposal, an evaluation, an objection, two approving votes and the initiator's commitment (Resolved).",
    mode: ModeId.Decision,
    async run(s) {
      await s.start();
      await s.send(COORDINATOR, "Proposal", { proposal_id: "p1", option: "deploy v2", rationale: "tests pass" });
      await s.send(ALICE, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.9, reason: "looks safe" });
      await s.send(BOB, "Objection", { proposal_id: "p1", reason: "friday deploy", severity: "low" });
      await s.send(ALICE, "Vote", { proposal_id: "p1", vote: "APPROVE", reason: "ship" });
      await s.send(BOB, "Vote", { proposal_id: "p1", vote: "APPROVE", reason: "fine" });
      await s.send(COORDINATOR, "Commitment", commitment("decision.selected"));
    },
  },
  {
    name: "decision-registered-policy",
    description: "Decision bound to a registered majority policy; replay takes the policy from the PolicyBinding record, not a registry (Resolved).",
    mode: ModeId.Decision,
    async run(s) {
      const registered = await s.kernel.registerPolicy({
        policyId: "policy.majority-of-two",
        mode: ModeId.Decision,
        description: "majority with at least two voters",
        rules: JSON.stringify({ voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } } }),
        schemaVersion: 1,
        registeredAtUnixMs: 0n,
      });
      if (!registered.ok) throw new Error(registered.error);
      await s.start({ policy_version: "policy.majority-of-two" });
      await s.send(COORDINATOR, "Proposal", { proposal_id: "p1", option: "hire", rationale: "" });
      await s.send(ALICE, "Vote", { proposal_id: "p1", vote: "APPROVE", reason: "" });
      await s.send(BOB, "Vote", { proposal_id: "p1", vote: "REJECT", reason: "budget" });
      await s.send(COORDINATOR, "Vote", { proposal_id: "p1", vote: "APPROVE", reason: "" });
      await s.send(COORDINATOR, "Commitment", commitment("decision.selected", "policy.majority-of-two"));
    },
  },
  {
    name: "quorum-approval",
    description: "Quorum: an approval request needing two approvals, two approvals and the commitment (Resolved).",
    mode: ModeId.Quorum,
    async run(s) {
      await s.start();
      await s.send(COORDINATOR, "ApprovalRequest", { request_id: "r1", action: "deploy", summary: "Deploy v2", details: [], required_approvals: 2 });
      await s.send(ALICE, "Approve", { request_id: "r1", reason: "lgtm" });
      await s.send(BOB, "Approve", { request_id: "r1", reason: "ship it" });
      await s.send(COORDINATOR, "Commitment", commitment("quorum.approved"));
    },
  },
  {
    name: "multi-round-convergence",
    description: "ext.multi_round.v1: contributions as JSON and as protobuf until the participants converge, then the commitment (Resolved).",
    mode: ModeId.MultiRound,
    async run(s) {
      await s.start();
      await s.send(ALICE, "Contribute", { value: "option_a" });
      await s.sendBytes(BOB, "Contribute", encodeContributeProto({ value: "option_b" }));
      await s.send(BOB, "Contribute", { value: "option_a" });
      await s.send(COORDINATOR, "Commitment", commitment("multi_round.converged"));
    },
  },
  {
    name: "proposal-cancelled",
    description: "Proposal: a proposal and one acceptance, then the initiator cancels the session (Cancelled).",
    mode: ModeId.Proposal,
    async run(s) {
      await s.start();
      await s.send(ALICE, "Proposal", { proposal_id: "p1", title: "offer", summary: "terms", details: [], tags: [] });
      await s.send(BOB, "Accept", { proposal_id: "p1", reason: "" });
      s.clock.advance(1_000);
      s.expectOk(await s.kernel.cancel(s.sessionId, COORDINATOR, "superseded"));
    },
  },
  {
    name: "decision-suspend-resume",
    description: "Decision suspended for 5 s and resumed (the deadline moves by the banked time), then voted and committed (Resolved).",
    mode: ModeId.Decision,
    async run(s) {
      await s.start();
      await s.send(COORDINATOR, "Proposal", { proposal_id: "p1", option: "migrate", rationale: "" });
      s.clock.advance(1_000);
      s.expectOk(await s.kernel.suspend(s.sessionId, COORDINATOR, "waiting for review"));
      s.clock.advance(5_000);
      s.expectOk(await s.kernel.resume(s.sessionId, COORDINATOR, "review done"));
      await s.send(ALICE, "Vote", { proposal_id: "p1", vote: "APPROVE", reason: "" });
      await s.send(COORDINATOR, "Commitment", commitment("decision.selected"));
    },
  },
  {
    name: "task-expired",
    description: "Task: a request and its acceptance, then a message after the TTL records TtlExpired (Expired).",
    mode: ModeId.Task,
    async run(s) {
      await s.start({ ttl_ms: 30_000 });
      await s.send(COORDINATOR, "TaskRequest", { task_id: "t1", title: "Build", instructions: "Do it", requested_assignee: ALICE, input: [], deadline_unix_ms: 0 });
      await s.send(ALICE, "TaskAccept", { task_id: "t1", assignee: ALICE, reason: "ready" });
      s.clock.advance(31_000);
      const late = await s.kernel.send(s.envelope(ALICE, "TaskComplete", encode(ModeId.Task, "TaskComplete", { task_id: "t1", assignee: ALICE, output: [], summary: "done" })), { sender: ALICE });
      if (late.ok || late.error?.variant !== "TtlExpired") throw new Error(`expected TtlExpired, got ${late.error?.variant}`);
    },
  },
];

function commitment(action, policyVersion = "") {
  return {
    commitment_id: "c1",
    action,
    authority_scope: "golden",
    reason: "done",
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    policy_version: policyVersion,
    outcome_positive: true,
  };
}

function encode(mode, messageType, json) {
  return encodePayloadJson(mode, messageType, json);
}

/** Drives one session through a fresh kernel; every step moves the clock so times are distinct. */
function scriptedSession(index, mode) {
  const store = new MemoryStore();
  const clock = new ManualClock(T0);
  const kernel = new Kernel({ store, clock, modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 0 });
  const sessionId = `00000000-0000-4000-8000-${(0xd0 + index).toString(16).padStart(12, "0")}`;
  let counter = 0;
  const s = {
    store,
    clock,
    kernel,
    sessionId,
    envelope(sender, messageType, payload) {
      return {
        macpVersion: PROTOCOL_VERSION,
        mode,
        messageType,
        messageId: `m${counter++}`,
        sessionId,
        sender,
        timestampUnixMs: BigInt(clock.now()),
        payload,
      };
    },
    expectOk(outcome) {
      if (!outcome.ok) throw new Error(`${sessionId}: ${outcome.error?.code} ${outcome.error?.message}`);
    },
    async sendBytes(sender, messageType, payload) {
      clock.advance(100);
      s.expectOk(await kernel.send(s.envelope(sender, messageType, payload), { sender }));
    },
    send(sender, messageType, json) {
      return s.sendBytes(sender, messageType, encode(mode, messageType, json));
    },
    start(extra = {}) {
      const payload = encode(mode, "SessionStart", {
        intent: "golden history",
        participants: [COORDINATOR, ALICE, BOB],
        mode_version: "1.0.0",
        configuration_version: "cfg-1",
        ttl_ms: 60_000,
        ...extra,
      });
      return s.sendBytes(COORDINATOR, "SessionStart", payload);
    },
  };
  return s;
}

function entryJson(entry) {
  return {
    kind: entry.kind,
    seq: entry.seq,
    sessionId: entry.sessionId,
    mode: entry.mode,
    messageType: entry.messageType,
    messageId: entry.messageId,
    sender: entry.sender,
    macpVersion: entry.macpVersion,
    timestampUnixMs: int64ToJson(entry.timestampUnixMs),
    receivedAtUnixMs: entry.receivedAtUnixMs,
    payload: bytesToBase64(entry.payload),
  };
}

await mkdir(OUT_DIR, { recursive: true });
for (const [index, scenario] of SCENARIOS.entries()) {
  const s = scriptedSession(index, scenario.mode);
  await scenario.run(s);
  await s.kernel.drain();
  const entries = await s.store.loadLog(s.sessionId);
  const live = s.kernel.sessionState(s.sessionId);
  // Recorded from the log, and only if the live path agrees, so a fixture never captures a replay bug.
  const replayed = replayLog(new ModeRegistry(), entries);
  if (hashSessionState(replayed) !== hashSessionState(live)) {
    throw new Error(`${scenario.name}: replay differs from the live session; fix that before recording`);
  }
  const fixture = {
    name: scenario.name,
    description: scenario.description,
    sessionId: s.sessionId,
    entries: entries.map(entryJson),
    finalStateHash: hashSessionState(replayed),
    finalState: summarizeSession(replayed),
  };
  await writeFile(join(OUT_DIR, `${scenario.name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
  process.stdout.write(`recorded ${scenario.name}: ${entries.length} log records, ${fixture.finalState.status}\n`);
}
