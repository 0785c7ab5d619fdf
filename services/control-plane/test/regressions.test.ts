import { randomUUID } from "node:crypto";
import { buildSessionStart } from "@macp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitmentMessage, modeMessage, sendAccepted } from "./support/agent-messages.js";
import { dropSchema, freshSchema, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { spawnRuntime } from "./support/runtime-daemon.js";
import type { RuntimeDaemon } from "./support/runtime-daemon.js";
import { waitFor } from "./support/wait.js";

const DECISION = "macp.mode.decision.v1";

/**
 * Regressions of defects measured on the existing control plane (control-plane-api.md §5) that
 * no other suite pins down, each against the real runtime daemon.
 */
describe("regressions of the existing control plane's defects (control-plane-api.md §5)", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  const schema = freshSchema();
  beforeAll(async () => {
    runtime = await spawnRuntime();
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, DATABASE_SCHEMA: schema, STREAM_BACKOFF_BASE_MS: "20", STREAM_BACKOFF_MAX_MS: "200" });
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    await dropSchema(schema);
  });

  const observe = (sessionId: string, participants: string[]) => ({
    mode: "live",
    runtime: { kind: "rust" },
    session: { sessionId, modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: participants.map((id) => ({ id })) },
  });
  const startSession = (sessionId: string) =>
    sendAccepted(
      runtime.client("alice"),
      buildSessionStart({ mode: DECISION, sessionId, messageId: randomUUID(), payload: { intent: "regression", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000 } }),
    );
  const status = (runId: string, wanted: string) =>
    waitFor(`run ${runId} ${wanted}`, async () => {
      const run = (await cp.request("GET", `/runs/${runId}`)).body;
      return run.status === wanted ? run : undefined;
    }, 90_000);

  it("§5.2: a session id already bound to a run is 409 SESSION_ALREADY_BOUND, never a 500", async () => {
    const sessionId = randomUUID();
    const first = await cp.request("POST", "/runs", { body: observe(sessionId, ["alice", "bob"]) });
    expect(first.status).toBe(201);
    const second = await cp.request("POST", "/runs", { body: { ...observe(sessionId, ["alice", "bob"]), execution: { tags: ["again"] } } });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ statusCode: 409, errorCode: "SESSION_ALREADY_BOUND", details: { path: "body/session/sessionId" } });
  });

  it("§5.9: a cancel the runtime refuses leaves the run and the session as they were", { timeout: 120_000 }, async () => {
    // The run lists bob first; alice started the session, so the credential the control plane uses (bob's) may not cancel it.
    const sessionId = randomUUID();
    const created = (await cp.request("POST", "/runs", { body: observe(sessionId, ["bob", "alice"]) })).body;
    await startSession(sessionId);
    await status(created.runId, "running");
    const refused = await cp.request("POST", `/runs/${created.runId}/cancel`, { body: { reason: "Cancelled from MACP UI" } });
    // The runtime's refusal comes back mapped (403 FORBIDDEN or 409), with the run untouched.
    expect([403, 409]).toContain(refused.status);
    expect(refused.body.errorCode).toEqual(expect.any(String));
    expect((await cp.request("GET", `/runs/${created.runId}`)).body.status).toBe("running");
    const session = await runtime.client("alice").getSession({ sessionId });
    expect(session.metadata?.state).toBe(1);
  });

  it("§5.11: a session that stays quiet is never failed for idleness; it completes when it resolves", { timeout: 120_000 }, async () => {
    const sessionId = randomUUID();
    const created = (await cp.request("POST", "/runs", { body: observe(sessionId, ["alice", "bob"]) })).body;
    await startSession(sessionId);
    await status(created.runId, "running");
    // Quiet for a while: nothing arrives, nothing polls the run to failure.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await cp.request("GET", `/runs/${created.runId}`)).body.status).toBe("running");
    await sendAccepted(runtime.client("alice"), modeMessage(DECISION, sessionId, "Proposal", { proposal_id: "p1", option: "deploy", rationale: "ready" }));
    await sendAccepted(runtime.client("alice"), commitmentMessage(DECISION, sessionId, "decision.selected"));
    await status(created.runId, "completed");
  });
});

describe("regression §5.3: inline StreamSession error frames are kept on the run", () => {
  let runtime: RuntimeDaemon;
  let cp: TestControlPlane;
  const schema = freshSchema();
  beforeAll(async () => {
    runtime = await spawnRuntime();
    // The control plane reads sessions as "mallory", whom the runtime lets subscribe to nothing.
    cp = await startTestControlPlane("postgres", { RUNTIME_ADDRESS: runtime.address, DATABASE_SCHEMA: schema, RUNTIME_BEARER_TOKEN: "mallory", STREAM_BACKOFF_BASE_MS: "20", STREAM_BACKOFF_MAX_MS: "200" });
  }, 180_000);
  afterAll(async () => {
    await cp?.close();
    await runtime?.stop();
    await dropSchema(schema);
  });

  it("a FORBIDDEN subscription shows up as a message.send_failed event with its code, not as silence", { timeout: 120_000 }, async () => {
    const created = await cp.request("POST", "/runs", {
      body: {
        mode: "live",
        runtime: { kind: "rust" },
        session: { modeName: DECISION, modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000, participants: [{ id: "alice" }, { id: "bob" }] },
        kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
      },
    });
    expect(created.status).toBe(201);
    const failed = await waitFor("the inline error event", async () => {
      const events = (await cp.request("GET", `/runs/${created.body.runId}/events?type=message.send_failed&limit=50`)).body.data;
      return events.find((event: { data: { errorCode?: string } }) => event.data.errorCode === "FORBIDDEN");
    }, 90_000);
    expect(failed.data).toMatchObject({ errorCode: "FORBIDDEN", errorMessage: expect.stringContaining("not a declared participant or observer") });
  });
});
