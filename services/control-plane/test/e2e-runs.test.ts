import { randomUUID } from "node:crypto";
import { buildSessionStart } from "@macp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATABASE_KINDS, dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";
import { commitmentMessage, modeMessage, sendAccepted as accepted } from "./support/agent-messages.js";

const DECISION = "macp.mode.decision.v1";

const decisionMessage = (sessionId: string, messageType: string, json: Record<string, unknown>) => modeMessage(DECISION, sessionId, messageType, json);

const vote = (sessionId: string) => decisionMessage(sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "looks good" });
const commitment = (sessionId: string) => commitmentMessage(DECISION, sessionId, "decision.selected");

function launchRequest(key: string) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: {
      modeName: DECISION,
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 60_000,
      participants: [{ id: "alice", role: "lead" }, { id: "bob" }],
      metadata: { intent: "pick a vendor", environment: "test", scenarioRef: "vendor-choice" },
    },
    kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
    execution: { idempotencyKey: key, tags: ["e2e"] },
  };
}

describe.each(DATABASE_KINDS)("runs end to end against the runtime daemon, stored in %s", (database) => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  // The database outlives a control-plane restart: a named schema, or a PGlite data directory.
  const schema = freshSchema();
  const dataDir = database === "pglite" ? mkdtempSync(join(tmpdir(), "cp-e2e-")) : undefined;
  const env = () => ({
    RUNTIME_ADDRESS: runtime.address,
    STREAM_BACKOFF_BASE_MS: "20",
    STREAM_BACKOFF_MAX_MS: "200",
    ...(dataDir !== undefined ? { DATA_DIR: dataDir } : { DATABASE_SCHEMA: schema }),
  });

  beforeAll(async () => {
    runtime = await spawnRuntime();
    cp = await startTestControlPlane(database, env());
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    else await dropSchema(schema);
  });

  const status = async (runId: string, wanted: string) =>
    waitFor(`run ${runId} ${wanted}`, async () => {
      const run = (await cp.request("GET", `/runs/${runId}`)).body;
      if (run.status === wanted) return run;
      if (["completed", "failed", "cancelled"].includes(run.status)) throw new Error(`run ended ${run.status}: ${run.errorCode} ${run.errorMessage}`);
      return undefined;
    }, 90_000);

  it("launches a decision run, sends the kickoff as its sender, and follows it to completion", { timeout: 180_000 }, async () => {
    const created = await cp.request("POST", "/runs", { body: launchRequest("launch-1") });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "queued", traceId: null });
    const { runId, sessionId } = created.body;
    await status(runId, "running");

    await accepted(runtime.client("bob"), vote(sessionId));
    await accepted(runtime.client("alice"), commitment(sessionId));
    const run = await status(runId, "completed");
    expect(run.endedAt).toMatch(/Z$/);
    expect(run.runtimeSessionId).toBe(sessionId);

    const state = (await cp.request("GET", `/runs/${runId}/state`)).body;
    expect(state.run).toMatchObject({ runId, status: "completed", runtimeSessionId: sessionId });
    expect(state.decision.current).toMatchObject({ finalized: true });
    expect(state.participants.map((participant: { participantId: string }) => participant.participantId).sort()).toEqual(["alice", "bob"]);

    const page = (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body;
    const types = page.data.map((event: { type: string }) => event.type);
    for (const type of ["run.created", "run.started", "session.bound", "participant.seen", "message.sent", "message.received", "proposal.created", "proposal.updated", "decision.finalized", "session.state.changed", "run.completed"]) {
      expect(types).toContain(type);
    }
    const seqs = page.data.map((event: { seq: number }) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(page.total).toBe(page.data.length);
    const sent = page.data.find((event: { type: string }) => event.type === "message.sent");
    expect(sent.data).toMatchObject({ sender: "alice", messageType: "Proposal", ack: { ok: true } });
    expect(sent.source).toEqual({ kind: "control-plane", name: expect.any(String) });
    const received = page.data.filter((event: { type: string }) => event.type === "message.received").map((event: { data: { messageType: string } }) => event.data.messageType);
    expect(received).toEqual(["SessionStart", "Proposal", "Vote", "Commitment"]);

    const filtered = (await cp.request("GET", `/runs/${runId}/events?type=decision.finalized,run.completed`)).body;
    expect(filtered.data.map((event: { type: string }) => event.type)).toEqual(["decision.finalized", "run.completed"]);
    const paged = (await cp.request("GET", `/runs/${runId}/events?limit=2&afterSeq=${seqs[1]}`)).body;
    expect(paged.data.map((event: { seq: number }) => event.seq)).toEqual(seqs.slice(2, 4));
    expect(paged.nextCursor).toBe(String(seqs[3]));

    const metrics = (await cp.request("GET", `/runs/${runId}/metrics`)).body;
    expect(metrics).toMatchObject({ runId, decisionCount: 1, proposalCount: expect.any(Number), eventCount: page.data.length });

    // Idempotent retry after completion: same run, 200, marked as replayed.
    const retry = await cp.request("POST", "/runs", { body: launchRequest("launch-1") });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toMatchObject({ runId, sessionId, status: "completed" });
    const changed = await cp.request("POST", "/runs", { body: { ...launchRequest("launch-1"), execution: { idempotencyKey: "launch-1", tags: ["other"] } } });
    expect(changed.status).toBe(409);
    expect(changed.body.errorCode).toBe("IDEMPOTENCY_KEY_REUSED");

    const listed = (await cp.request("GET", "/runs?status=completed&environment=test&tags=e2e")).body;
    expect(listed.data.map((item: { id: string }) => item.id)).toContain(runId);
  });

  it("observes a session its agents start, and a restart of the control plane loses nothing", { timeout: 180_000 }, async () => {
    const sessionId = randomUUID();
    const created = await cp.request("POST", "/runs", {
      body: {
        mode: "live",
        runtime: { kind: "rust" },
        session: { sessionId, modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
      },
    });
    expect(created.status).toBe(201);
    const { runId } = created.body;
    // The session does not exist yet: the run waits instead of failing on NOT_FOUND.
    await status(runId, "starting");

    const alice = runtime.client("alice");
    const bob = runtime.client("bob");
    await accepted(
      alice,
      buildSessionStart({ mode: DECISION, sessionId, messageId: randomUUID(), payload: { intent: "observe me", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000 } }),
    );
    await accepted(alice, decisionMessage(sessionId, "Proposal", { proposal_id: "p1", option: "deploy", rationale: "ready" }));
    await status(runId, "running");
    await waitFor("the Proposal", async () => {
      const events = (await cp.request("GET", `/runs/${runId}/events?type=proposal.created`)).body;
      return events.data.length === 1 ? true : undefined;
    }, 90_000);

    await cp.close();
    // Accepted while the control plane is down.
    await accepted(bob, decisionMessage(sessionId, "Evaluation", { proposal_id: "p1", recommendation: "approve", confidence: 0.9, reason: "fine" }));
    await accepted(bob, vote(sessionId));
    cp = await startTestControlPlane(database, env());

    await waitFor("the envelopes accepted during the restart", async () => {
      const events = (await cp.request("GET", `/runs/${runId}/events?type=message.received`)).body;
      return events.data.length === 4 ? true : undefined;
    }, 90_000);
    await accepted(alice, commitment(sessionId));
    await status(runId, "completed");

    const events = (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body.data;
    const received = events.filter((event: { type: string }) => event.type === "message.received").map((event: { data: { messageType: string } }) => event.data.messageType);
    expect(received).toEqual(["SessionStart", "Proposal", "Evaluation", "Vote", "Commitment"]);
    const reopened = events.filter((event: { type: string }) => event.type === "session.stream.opened").map((event: { data: { status: string } }) => event.data.status);
    expect(reopened).toContain("recovered");
    expect(events.filter((event: { type: string }) => event.type === "message.sent")).toEqual([]);
  });
});
