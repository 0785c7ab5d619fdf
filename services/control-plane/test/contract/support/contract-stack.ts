import { randomUUID } from "node:crypto";
import { dropSchema, freshSchema, startTestControlPlane } from "../../support/harness.js";
import type { TestControlPlane } from "../../support/harness.js";
import { spawnRuntime } from "../../support/runtime-daemon.js";
import type { RuntimeDaemon } from "../../support/runtime-daemon.js";
import { waitFor } from "../../support/wait.js";
import { commitmentMessage, modeMessage, sendAccepted } from "../../support/agent-messages.js";

export const DECISION = "macp.mode.decision.v1";

/** A runtime daemon and a control plane on a fresh Postgres schema, for one contract test file. */
export interface ContractStack {
  readonly runtime: RuntimeDaemon;
  readonly cp: TestControlPlane;
  close(): Promise<void>;
}

/** Starts the runtime daemon and a development control plane bound to it. */
export async function startContractStack(env: Record<string, string> = {}): Promise<ContractStack> {
  const runtime = await spawnRuntime();
  const schema = freshSchema();
  let cp: TestControlPlane;
  try {
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, DATABASE_SCHEMA: schema, STREAM_BACKOFF_BASE_MS: "20", STREAM_BACKOFF_MAX_MS: "200", ...env });
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  return {
    runtime,
    cp,
    async close() {
      await cp.close();
      await runtime.stop();
      await dropSchema(schema);
    },
  };
}

/** The design note's ExecutionRequest for a decision run that alice launches with a Proposal to bob. */
export function decisionLaunch(overrides: { idempotencyKey?: string; tags?: string[]; scenarioRef?: string; environment?: string } = {}) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: {
      modeName: DECISION,
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 120_000,
      participants: [{ id: "alice", role: "lead" }, { id: "bob", role: "voter" }],
      metadata: { intent: "pick a vendor", environment: overrides.environment ?? "contract", scenarioRef: overrides.scenarioRef ?? "vendor-choice@1.0.0", source: "contract-test", sourceRef: "vendor-choice" },
    },
    kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
    execution: { idempotencyKey: overrides.idempotencyKey ?? randomUUID(), tags: overrides.tags ?? ["contract"], requester: { actorId: "ui-user", actorType: "user" } },
  };
}

const TERMINAL = ["completed", "failed", "cancelled"];

/** Waits until the run has `wanted` status; fails early if it ends otherwise. */
export function waitForStatus(cp: TestControlPlane, runId: string, wanted: string) {
  return waitFor(
    `run ${runId} ${wanted}`,
    async () => {
      const run = (await cp.request("GET", `/runs/${runId}`)).body;
      if (run.status === wanted) return run;
      if (TERMINAL.includes(run.status)) throw new Error(`run ended ${run.status}: ${run.errorCode} ${run.errorMessage}`);
      return undefined;
    },
    90_000,
  );
}

/** Launches a decision run and waits until it is running (the kickoff Proposal accepted). */
export async function runningDecisionRun(stack: ContractStack, overrides: Parameters<typeof decisionLaunch>[0] = {}): Promise<{ runId: string; sessionId: string }> {
  const created = await stack.cp.request("POST", "/runs", { body: decisionLaunch(overrides) });
  if (created.status !== 201) throw new Error(`POST /runs answered ${created.status}: ${created.text}`);
  const { runId, sessionId } = created.body as { runId: string; sessionId: string };
  await waitForStatus(stack.cp, runId, "running");
  return { runId, sessionId };
}

/**
 * A decision run driven to completion by simulated agents: alice's kickoff Proposal, bob's
 * Evaluation and Vote, alice's Commitment. Resolves once the control plane has it completed.
 */
export async function completedDecisionRun(stack: ContractStack, overrides: Parameters<typeof decisionLaunch>[0] = {}): Promise<{ runId: string; sessionId: string }> {
  const { runId, sessionId } = await runningDecisionRun(stack, overrides);
  const bob = stack.runtime.client("bob");
  await sendAccepted(bob, modeMessage(DECISION, sessionId, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.82, reason: "cheapest" }));
  await sendAccepted(bob, modeMessage(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "looks good" }));
  await sendAccepted(stack.runtime.client("alice"), commitmentMessage(DECISION, sessionId, "decision.selected"));
  await waitForStatus(stack.cp, runId, "completed");
  return { runId, sessionId };
}
