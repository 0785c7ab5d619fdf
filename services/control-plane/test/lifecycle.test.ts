import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { freePort, spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";
import { commitmentMessage, modeMessage } from "./support/agent-messages.js";

const DECISION = "macp.mode.decision.v1";

const message = (sessionId: string, messageType: string, json: Record<string, unknown>) => modeMessage(DECISION, sessionId, messageType, json);

function launch(ttlMs = 60_000) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs, participants: [{ id: "alice" }, { id: "bob" }] },
    kickoff: [{ from: "alice", to: ["bob"], messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
  };
}

describe("run lifecycle driven by the runtime", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cp-runtime-"));
  let port: number;
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  const runtimeEnv = () => ({ MACP_MEMORY_ONLY: "0", MACP_STORAGE_BACKEND: "file", MACP_DATA_DIR: dataDir, MACP_BIND_ADDR: `127.0.0.1:${port}`, MACP_CLEANUP_INTERVAL_SECS: "1" });

  beforeAll(async () => {
    port = await freePort();
    runtime = await spawnRuntime(runtimeEnv());
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, STREAM_BACKOFF_BASE_MS: "20", STREAM_BACKOFF_MAX_MS: "200", RUNTIME_CIRCUIT_BREAKER_RESET_MS: "200" });
  });
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const runOf = async (runId: string) => (await cp.request("GET", `/runs/${runId}`)).body;
  const until = (runId: string, status: string) => waitFor(`run ${runId} ${status}`, async () => ((await runOf(runId)).status === status ? true : undefined), 90_000);

  it("re-subscribes from its cursor when the runtime restarts and misses nothing", { timeout: 180_000 }, async () => {
    const { runId, sessionId } = (await cp.request("POST", "/runs", { body: launch() })).body;
    await until(runId, "running");
    await runtime.stop();
    runtime = await spawnRuntime(runtimeEnv());

    const bob = runtime.client("bob");
    await bob.waitForReady(30_000);
    for (const envelope of [
      message(sessionId, "Evaluation", { proposal_id: "p1", recommendation: "APPROVE", confidence: 0.8, reason: "ok" }),
      message(sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "ok" }),
    ]) {
      expect((await bob.send({ envelope })).ack?.ok).toBe(true);
    }
    const commitment = commitmentMessage(DECISION, sessionId, "decision.selected");
    const alice = runtime.client("alice");
    await alice.waitForReady(30_000);
    expect((await alice.send({ envelope: commitment })).ack?.ok).toBe(true);
    await until(runId, "completed");

    const events = (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body.data;
    const received = events.filter((event: { type: string }) => event.type === "message.received").map((event: { data: { messageType: string } }) => event.data.messageType);
    expect(received).toEqual(["SessionStart", "Proposal", "Evaluation", "Vote", "Commitment"]);
    const statuses = events.filter((event: { type: string }) => event.type === "session.stream.opened").map((event: { data: { status: string } }) => event.data.status);
    expect(statuses).toContain("reconnecting");
    expect(events.at(-1).type).toBe("run.completed");
  });

  it("fails a run whose session expires, with the real reason", { timeout: 180_000 }, async () => {
    const { runId } = (await cp.request("POST", "/runs", { body: launch(1_500) })).body;
    await waitFor(`run ${runId} failed`, async () => ((await runOf(runId)).status === "failed" ? true : undefined), 90_000);
    const run = await runOf(runId);
    expect(run).toMatchObject({ errorCode: "SESSION_EXPIRED", status: "failed" });
    const state = (await cp.request("GET", `/runs/${runId}/state`)).body;
    expect(state.run).toMatchObject({ status: "failed", sessionState: "SESSION_STATE_EXPIRED" });
  });
});
