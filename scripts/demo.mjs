// Launches example runs (decision, task, quorum) through the control plane's HTTP API and plays
// their participants with simulated agents built on @macp/client, so the runs go live and finish
// within a minute. Needs the stack of `npx -y pnpm@10 start` (or any control plane in development
// mode with its runtime in development auth).
//
//   MACP_CONTROL_PLANE_URL  control plane base URL          (default http://127.0.0.1:3001)
//   MACP_RUNTIME_ADDRESS    runtime gRPC address for agents (default 127.0.0.1:50051)
//   MACP_DEMO_STEP_MS       pause before each agent message (default 1500; 0 = as fast as possible)
//   MACP_DEMO_TIMEOUT_MS    give up after this long         (default 120000)
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { buildEnvelope, createMacpClient } from "@macp/client";
import { encodePayloadJson } from "@macp/protocol";

const controlPlaneUrl = (process.env.MACP_CONTROL_PLANE_URL || "http://127.0.0.1:3001").replace(/\/+$/, "");
const runtimeAddress = process.env.MACP_RUNTIME_ADDRESS || "127.0.0.1:50051";
const stepMs = nonNegative("MACP_DEMO_STEP_MS", 1500);
const timeoutMs = nonNegative("MACP_DEMO_TIMEOUT_MS", 120_000);

function nonNegative(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`demo: ${name} must be a non-negative integer of milliseconds, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return value;
}

const commitment = (action, reason) => [
  "Commitment",
  {
    commitment_id: randomUUID(),
    action,
    authority_scope: "demo",
    reason,
    mode_version: "1.0.0",
    configuration_version: "demo-1",
    policy_version: "policy.default",
    outcome_positive: true,
  },
];

/**
 * Each scenario is a run request plus its agents: `react(envelope, seen)` returns the messages an
 * agent sends in answer to an accepted envelope of someone else (`seen`: every envelope so far).
 */
const scenarios = [
  {
    name: "decision",
    mode: "macp.mode.decision.v1",
    intent: "choose the release day",
    participants: [{ id: "alice", role: "lead" }, { id: "bob", role: "reviewer" }],
    kickoff: { from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "release v2 on Thursday", rationale: "all checks are green" } },
    agents: {
      bob: (envelope) => (envelope.messageType === "Proposal" ? [["Vote", { proposal_id: "p1", vote: "approve", reason: "Thursday works for support" }]] : []),
      alice: (envelope) => (envelope.messageType === "Vote" ? [commitment("decision.selected", "bob approved the proposal")] : []),
    },
  },
  {
    name: "task",
    mode: "macp.mode.task.v1",
    intent: "index the documentation",
    participants: [{ id: "alice", role: "requester" }, { id: "bob", role: "worker" }],
    kickoff: { from: "alice", to: ["bob"], kind: "request", messageType: "TaskRequest", payload: { task_id: "t1", title: "index the docs", instructions: "build the search index of docs/", requested_assignee: "bob" } },
    agents: {
      bob: (envelope) =>
        envelope.messageType === "TaskRequest"
          ? [
              ["TaskAccept", { task_id: "t1", assignee: "bob", reason: "on it" }],
              ["TaskUpdate", { task_id: "t1", status: "working", progress: 0.5, message: "half of the pages indexed" }],
              ["TaskComplete", { task_id: "t1", assignee: "bob", summary: "412 pages indexed" }],
            ]
          : [],
      alice: (envelope) => (envelope.messageType === "TaskComplete" ? [commitment("task.completed", "the index is built")] : []),
    },
  },
  {
    name: "quorum",
    mode: "macp.mode.quorum.v1",
    intent: "approve the production deploy",
    participants: [{ id: "coordinator", role: "coordinator" }, { id: "alice" }, { id: "bob" }, { id: "carol" }],
    kickoff: { from: "coordinator", to: ["alice", "bob", "carol"], kind: "request", messageType: "ApprovalRequest", payload: { request_id: "r1", action: "deploy", summary: "Deploy v2 to production", required_approvals: 2 } },
    agents: {
      alice: (envelope) => (envelope.messageType === "ApprovalRequest" ? [["Approve", { request_id: "r1", reason: "canary is healthy" }]] : []),
      bob: (envelope) => (envelope.messageType === "ApprovalRequest" ? [["Approve", { request_id: "r1", reason: "ship it" }]] : []),
      carol: (envelope) => (envelope.messageType === "ApprovalRequest" ? [["Reject", { request_id: "r1", reason: "would rather wait for Monday" }]] : []),
      coordinator: (envelope, seen) => {
        const ballots = seen.filter((message) => ["Approve", "Reject", "Abstain"].includes(message.messageType));
        return ballots.length === 3 && envelope === ballots.at(-1) ? [commitment("quorum.approved", "2 of 3 approved")] : [];
      },
    },
  },
];

const log = (line) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function api(method, path, body) {
  const response = await fetch(`${controlPlaneUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const json = text === "" ? undefined : JSON.parse(text);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${json?.errorCode ?? ""} ${json?.message ?? text}`);
  return json;
}

/** Polls the run until `done(status)` holds; a terminal status other than the wanted one throws. */
async function untilStatus(runId, wanted, signal) {
  for (;;) {
    signal.throwIfAborted();
    const run = await api("GET", `/runs/${runId}`);
    if (wanted.includes(run.status)) return run;
    if (["completed", "failed", "cancelled"].includes(run.status)) {
      throw new Error(`run ${runId} ended ${run.status}: ${run.errorCode ?? ""} ${run.errorMessage ?? ""}`);
    }
    await sleep(200, undefined, { signal });
  }
}

/** One simulated participant: follows the session's accepted envelopes and answers as `id`. */
async function agent(scenario, sessionId, id, react, signal) {
  const client = createMacpClient({ address: runtimeAddress, auth: { bearer: id }, defaultDeadlineMs: 10_000 });
  const stream = client.streamSession({ signal });
  const seen = [];
  try {
    stream.subscribe(sessionId, 0);
    for await (const { response } of stream) {
      if (response?.$case !== "envelope") continue;
      const envelope = response.value;
      seen.push(envelope);
      if (envelope.messageType === "Commitment") return;
      if (envelope.sender === id) continue;
      for (const [messageType, json] of react(envelope, seen)) {
        await sleep(stepMs, undefined, { signal });
        const payload = encodePayloadJson(scenario.mode, messageType, json);
        const { ack } = await client.send({ envelope: buildEnvelope({ mode: scenario.mode, sessionId, messageType, messageId: randomUUID(), payload }) });
        if (!ack?.ok) throw new Error(`${scenario.name}: ${id}'s ${messageType} was refused: ${ack?.error?.code} ${ack?.error?.message}`);
        log(`${scenario.name.padEnd(8)} ${id} -> ${messageType}`);
      }
    }
  } finally {
    stream.cancel();
    client.close();
  }
}

async function play(scenario, signal) {
  const created = await api("POST", "/runs", {
    mode: "live",
    runtime: { kind: "rust" },
    session: {
      modeName: scenario.mode,
      modeVersion: "1.0.0",
      configurationVersion: "demo-1",
      ttlMs: 10 * 60_000,
      participants: scenario.participants,
      metadata: { intent: scenario.intent, scenarioRef: `demo/${scenario.name}` },
    },
    kickoff: [scenario.kickoff],
    execution: { tags: ["demo", scenario.name] },
  });
  const { runId, sessionId } = created;
  log(`${scenario.name.padEnd(8)} run ${runId}`);
  log(`${"".padEnd(8)} view   ${controlPlaneUrl}/ui/runs/${runId}   (run viewer)`);
  log(`${"".padEnd(8)} state  ${controlPlaneUrl}/runs/${runId}/state`);
  log(`${"".padEnd(8)} stream ${controlPlaneUrl}/runs/${runId}/stream`);
  await untilStatus(runId, ["running"], signal);
  await Promise.all(Object.entries(scenario.agents).map(([id, react]) => agent(scenario, sessionId, id, react, signal)));
  const run = await untilStatus(runId, ["completed"], signal);
  log(`${scenario.name.padEnd(8)} run ${runId} ${run.status}`);
  return run;
}

/** Waits up to 60 s for the control plane's /readyz (a stack started a moment ago may still be migrating). */
async function ready() {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await api("GET", "/readyz");
    } catch (error) {
      if (Date.now() > deadline) {
        process.stderr.write(
          `demo: the control plane at ${controlPlaneUrl} is not ready (${error instanceof Error ? error.message : String(error)}).\n` +
            "Start the stack first in another terminal: npx -y pnpm@10 start\n",
        );
        process.exit(1);
      }
      await sleep(500);
    }
  }
}

async function main() {
  await ready();
  log(`launching ${scenarios.length} runs on ${controlPlaneUrl} (runtime ${runtimeAddress}); watch them in the run viewer at ${controlPlaneUrl}/`);
  const signal = AbortSignal.timeout(timeoutMs);
  // Every run, agent, stream and pause listens to this one signal.
  setMaxListeners(0, signal);
  const results = await Promise.allSettled(scenarios.map((scenario) => play(scenario, signal)));
  const failed = results.filter((result) => result.status === "rejected");
  for (const result of failed) process.stderr.write(`demo: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}\n`);
  if (failed.length > 0) process.exit(1);
  log(`all ${scenarios.length} runs completed; list them: ${controlPlaneUrl}/runs`);
}

await main();
