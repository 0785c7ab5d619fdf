// Per-message apply cost of the modes as a session grows. For each mode and session length L the
// session is built to L − WINDOW accepted messages, then the next WINDOW messages are timed one
// by one (mode.apply alone: what the kernel and replay run per message; state is serialized only
// where stored). Every mode's state grows with the session: decision adds proposals, evaluations
// and objections; quorum and multi_round get one ballot / contribution per participant, so their
// sessions declare L participants (the kernel caps strict modes at 1,000 participants; the mode
// itself has no cap, and this measures the mode). Prints one JSON document:
// proposal alternates new proposals and accepts among 100 participants. The `kernel` section then
// sends whole decision sessions through the kernel (memory store) with the default snapshot
// schedule and with snapshots off, so the difference is what writing snapshots costs per message.
//   node bench/modes-scaling/run.mjs        (env BENCH_LENGTHS=10,1000,10000,100000, BENCH_WINDOW=1000,
//                                            BENCH_MODES=decision,quorum,multi_round,proposal,
//                                            BENCH_KERNEL_LENGTHS=10000,100000; empty skips it)
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import { CommitmentPayload, ModeId, PROTOCOL_VERSION, SessionStartPayload, decision, encodeContributeProto, encodePayload } from "@macp/protocol";
import { DEFAULT_POLICY, PolicyRegistry } from "@macp/policy";
import { ModeRegistry, decisionMode, multiRoundMode, proposalMode, quorumMode } from "@macp/modes";

const LENGTHS = (process.env.BENCH_LENGTHS ?? "10,1000,10000,100000").split(",").map(Number);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 1000);
const MODES = (process.env.BENCH_MODES ?? "decision,quorum,multi_round,proposal").split(",");
const KERNEL_LENGTHS = (process.env.BENCH_KERNEL_LENGTHS ?? "10000,100000").split(",").filter(Boolean).map(Number);

function session(mode, participants) {
  return {
    sessionId: "bench",
    mode,
    initiator: "initiator",
    participants,
    modeVersion: "1.0.0",
    configurationVersion: "cfg-1",
    policyVersion: DEFAULT_POLICY.policyId,
    policy: DEFAULT_POLICY,
    ttlMs: 3_600_000,
  };
}

function startPayload(view) {
  return {
    intent: "bench",
    participants: [...view.participants],
    modeVersion: view.modeVersion,
    configurationVersion: view.configurationVersion,
    policyVersion: view.policyVersion,
    ttlMs: BigInt(view.ttlMs),
    roots: [],
    contextId: "",
    extensions: {},
  };
}

const commitment = CommitmentPayload.encode({
  commitmentId: "c1",
  action: "deploy",
  authorityScope: "bench",
  reason: "done",
  modeVersion: "1.0.0",
  policyVersion: DEFAULT_POLICY.policyId,
  configurationVersion: "cfg-1",
  outcomePositive: true,
  supersedes: undefined,
}).finish();

let messageNumber = 0;
function envelope(messageType, sender, payload) {
  messageNumber += 1;
  return { messageType, messageId: `m${messageNumber}`, sender, timestampUnixMs: 1_000n, payload };
}

/** Message i of a decision session: a proposal every fourth message, evaluations and objections of the latest one between. */
function decisionMessage(i) {
  const sender = `agent-${i % 100}`;
  const proposalId = `p${i - (i % 4)}`;
  switch (i % 4) {
    case 0:
      return envelope("Proposal", sender, decision.ProposalPayload.encode({ proposalId, option: `option ${i}`, rationale: "why", supportingData: new Uint8Array() }).finish());
    case 2:
      return envelope("Objection", sender, decision.ObjectionPayload.encode({ proposalId, reason: "concern", severity: "low" }).finish());
    default:
      return envelope("Evaluation", sender, decision.EvaluationPayload.encode({ proposalId, recommendation: "APPROVE", confidence: 0.9, reason: "ok" }).finish());
  }
}

const SCENARIOS = {
  decision: {
    handler: decisionMode,
    session: () => session(ModeId.Decision, Array.from({ length: 100 }, (_, i) => `agent-${i}`)),
    message: (i) => decisionMessage(i),
    finish: () => [
      envelope("Vote", "agent-0", decision.VotePayload.encode({ proposalId: "p0", vote: "APPROVE", reason: "yes" }).finish()),
      envelope("Commitment", "initiator", commitment),
    ],
  },
  quorum: {
    handler: quorumMode,
    session: (length) => session(ModeId.Quorum, Array.from({ length }, (_, i) => `agent-${i}`)),
    // Message 0 is the request; ballot i comes from participant i − 1.
    message: (i, length) =>
      i === 0
        ? envelope("ApprovalRequest", "initiator", encodePayload(ModeId.Quorum, "ApprovalRequest", { requestId: "r1", action: "deploy", summary: "s", requiredApprovals: length }))
        : envelope(["Approve", "Reject", "Abstain"][i % 3], `agent-${i - 1}`, encodePayload(ModeId.Quorum, "Approve", { requestId: "r1", reason: "r" })),
    // The last participant's ballot makes the threshold unreachable, so a Commitment is accepted.
    finish: (length) => [envelope("Reject", `agent-${length - 1}`, encodePayload(ModeId.Quorum, "Reject", { requestId: "r1", reason: "r" })), envelope("Commitment", "initiator", commitment)],
  },
  proposal: {
    handler: proposalMode,
    session: () => session(ModeId.Proposal, Array.from({ length: 100 }, (_, i) => `agent-${i}`)),
    // Even messages propose, odd ones accept the latest proposal from another participant.
    message: (i) =>
      i % 2 === 0
        ? envelope("Proposal", `agent-${i % 100}`, encodePayload(ModeId.Proposal, "Proposal", { proposalId: `p${i}`, title: "t", summary: "s" }))
        : envelope("Accept", `agent-${(i + 1) % 100}`, encodePayload(ModeId.Proposal, "Accept", { proposalId: `p${i - 1}`, reason: "ok" })),
    // Every participant accepts the last proposal (all_parties converges), then the Commitment.
    finish: (length) => [
      ...Array.from({ length: 100 }, (_, p) => envelope("Accept", `agent-${p}`, encodePayload(ModeId.Proposal, "Accept", { proposalId: `p${(length - 1) - ((length - 1) % 2)}`, reason: "ok" }))),
      envelope("Commitment", "initiator", commitment),
    ],
  },
  multi_round: {
    handler: multiRoundMode,
    session: (length) => session(ModeId.MultiRound, Array.from({ length }, (_, i) => `agent-${i}`)),
    message: (i) => envelope("Contribute", `agent-${i}`, encodeContributeProto({ value: `v${i % 7}` })),
    finish: () => [],
  },
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function apply(handler, view, state, env) {
  const outcome = handler.apply(view, state, env);
  if (outcome.kind !== "accepted") throw new Error(`${env.messageType} rejected: ${outcome.error.message}`);
  return outcome.state;
}

/**
 * Builds sessions of `length` messages and times each of their last `window` messages, wall
 * clock and CPU time of this process (CPU time leaves out the time other processes on this
 * shared machine hold the core). Short sessions are run several times so every point has about
 * WINDOW timed messages.
 */
function measure(name, length) {
  const scenario = SCENARIOS[name];
  const window = Math.min(WINDOW, length);
  const sessions = Math.ceil(WINDOW / window);
  const wall = [];
  const cpu = [];
  let buildMs = 0;
  let finish;
  let state;
  for (let s = 0; s < sessions; s++) {
    const view = scenario.session(length);
    state = scenario.handler.start(view, startPayload(view)).state;
    const built = performance.now();
    for (let i = 0; i < length - window; i++) state = apply(scenario.handler, view, state, scenario.message(i, length));
    buildMs += performance.now() - built;
    for (let i = length - window; i < length; i++) {
      const env = scenario.message(i, length);
      const c = process.cpuUsage();
      const t = performance.now();
      state = apply(scenario.handler, view, state, env);
      wall.push((performance.now() - t) * 1000);
      const used = process.cpuUsage(c);
      cpu.push(used.user + used.system);
    }
    finish = scenario.finish(length).map((env) => {
      const t = performance.now();
      state = apply(scenario.handler, view, state, env);
      return { type: env.messageType, us: Math.round((performance.now() - t) * 1000) };
    });
    // Only the last step of the finish is reported per type (proposal's closing accepts are many).
    finish = Object.values(Object.fromEntries(finish.map((step) => [step.type, step])));
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const serialized = performance.now();
  const bytes = JSON.stringify(state).length;
  return {
    length,
    timed_messages: wall.length,
    p50_us: Number(percentile(wall, 50).toFixed(2)),
    p99_us: Number(percentile(wall, 99).toFixed(2)),
    mean_us: Number((wall.reduce((a, b) => a + b, 0) / wall.length).toFixed(2)),
    cpu_p50_us: percentile(cpu, 50),
    cpu_p99_us: percentile(cpu, 99),
    build_ms: Math.round(buildMs),
    finish,
    state_json_bytes: bytes,
    serialize_ms: Number((performance.now() - serialized).toFixed(1)),
  };
}

/**
 * A decision session of `length` messages sent through the kernel over the memory store: wall
 * time per message (send + the background snapshot work it caused, drained at the end), with the
 * default snapshot schedule or with periodic snapshots off.
 */
async function kernelRun(length, snapshotEvery) {
  class CountingStore extends InMemorySessionStore {
    written = 0;
    bytes = 0;
    async writeSnapshot(id, snapshot) {
      this.written += 1;
      this.bytes += snapshot.state.length;
      return super.writeSnapshot(id, snapshot);
    }
  }
  const store = new CountingStore();
  const options = { store, clock: new ManualClock(1_800_000_000_000), modes: new ModeRegistry(), policies: new PolicyRegistry() };
  const kernel = new Kernel(snapshotEvery === undefined ? options : { ...options, snapshotEvery });
  const sessionId = "00000000-0000-4000-8000-000000000001";
  const participants = Array.from({ length: 100 }, (_, i) => `agent-${i}`);
  const start = SessionStartPayload.encode(SessionStartPayload.fromPartial({ intent: "bench", participants, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 3_600_000 })).finish();
  const wrap = (env) => ({ ...env, macpVersion: PROTOCOL_VERSION, mode: ModeId.Decision, sessionId, timestampUnixMs: 0n });
  await kernel.send(wrap(envelope("SessionStart", "initiator", start)), { sender: "initiator" });
  const times = [];
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < length; i++) {
    const env = wrap(decisionMessage(i));
    const t = performance.now();
    const outcome = await kernel.send(env, { sender: env.sender });
    times.push((performance.now() - t) * 1000);
    if (!outcome.ok) throw new Error(`${env.messageType}: ${outcome.error?.message}`);
  }
  await kernel.drain();
  const totalMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  return {
    mean_us: Number(((totalMs * 1000) / length).toFixed(1)),
    cpu_mean_us: Number(((cpu.user + cpu.system) / length).toFixed(1)),
    p50_us: Number(percentile(times, 50).toFixed(1)),
    p99_us: Number(percentile(times, 99).toFixed(1)),
    max_ms: Number((times[times.length - 1] / 1000).toFixed(1)),
    snapshots: store.written,
    snapshot_mb: Number((store.bytes / 1e6).toFixed(1)),
  };
}

const results = { date: new Date().toISOString(), node: process.version, window: WINDOW, modes: {} };
for (const name of MODES) {
  // A throwaway run warms the JIT so the first length is not charged for compilation.
  measure(name, Math.min(1000, LENGTHS[LENGTHS.length - 1]));
  const points = LENGTHS.map((length) => measure(name, length));
  const first = points[0];
  results.modes[name] = points.map((point) => ({
    ...point,
    p50_vs_first: Number((point.p50_us / first.p50_us).toFixed(2)),
    p99_vs_first: Number((point.p99_us / first.p99_us).toFixed(2)),
    cpu_p99_vs_first: Number((point.cpu_p99_us / Math.max(1, first.cpu_p99_us)).toFixed(2)),
  }));
}
if (KERNEL_LENGTHS.length > 0) {
  await kernelRun(2_000, undefined);
  results.kernel_decision = [];
  for (const length of KERNEL_LENGTHS) {
    const scheduled = await kernelRun(length, undefined);
    const off = await kernelRun(length, 0);
    results.kernel_decision.push({
      length,
      default_schedule: scheduled,
      snapshots_off: off,
      snapshot_cost_per_message_us: Number((scheduled.mean_us - off.mean_us).toFixed(1)),
      snapshot_cpu_per_message_us: Number((scheduled.cpu_mean_us - off.cpu_mean_us).toFixed(1)),
    });
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
