import { randomUUID } from "node:crypto";
import { buildSessionStart } from "@macp/client";
import type { RawRuntimeEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlPlaneContext } from "../src/context.js";
import { eventStore } from "@macp/pipeline";
import { DATABASE_KINDS, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { modeMessage } from "./support/agent-messages.js";
import { endRun, seedRun } from "./support/seed-run.js";

const DECISION = "macp.mode.decision.v1";

/** Stores envelopes as the session consumer does, in runtime order. */
async function ingest(ctx: ControlPlaneContext, runId: string, envelopes: ReturnType<typeof modeMessage>[]): Promise<void> {
  for (const [index, envelope] of envelopes.entries()) {
    const raw: RawRuntimeEvent = { kind: "stream-envelope", envelope, runtimeSequence: index, receivedAt: new Date().toISOString() };
    ctx.lifecycle.publish(await ctx.database.db.transaction().execute((trx) => eventStore.appendRaw(trx, runId, raw)));
  }
}

describe.each(DATABASE_KINDS)("GET /runs/:id/messages and GET /runs/:id/export/stream (%s)", (kind) => {
  let cp: TestControlPlane;
  let ctx: ControlPlaneContext;
  let runId: string;
  const sessionId = randomUUID();
  beforeAll(async () => {
    // Pages of 2 so the streamed export reads several pages.
    cp = await startTestControlPlane(kind, { REPLAY_BATCH_SIZE: "2" });
    ctx = cp.handle.context;
    runId = await seedRun(ctx);
    const start = buildSessionStart({
      mode: DECISION,
      sessionId,
      messageId: "m-start",
      payload: { intent: "ship?", participants: ["alice", "bob"], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 60_000 },
    });
    await ingest(ctx, runId, [
      { ...start, sender: "alice" },
      { ...modeMessage(DECISION, sessionId, "Proposal", { proposal_id: "p1", option: "deploy", rationale: "ready" }), sender: "alice" },
      { ...modeMessage(DECISION, sessionId, "Vote", { proposal_id: "p1", vote: "approve", reason: "ok" }), sender: "bob" },
    ]);
    await endRun(ctx, runId, "completed");
  });
  afterAll(async () => {
    await cp?.close();
  });

  it("lists the accepted envelopes in runtime order with decoded payloads, page by page", async () => {
    const first = await cp.request("GET", `/runs/${runId}/messages?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(3);
    expect(first.body.limit).toBe(2);
    expect(first.body.data.map((message: { messageType: string; sender: string }) => [message.messageType, message.sender])).toEqual([
      ["SessionStart", "alice"],
      ["Proposal", "alice"],
    ]);
    const [sessionStart, proposal] = first.body.data;
    expect(sessionStart).toMatchObject({ runtimeSeq: 0, messageId: "m-start", sessionId, mode: DECISION, payload: { intent: "ship?", participants: ["alice", "bob"] } });
    expect(proposal).toMatchObject({ runtimeSeq: 1, payload: { proposalId: "p1", option: "deploy", rationale: "ready" }, payloadTypeName: expect.stringContaining("Proposal") });
    expect(Date.parse(proposal.timestamp)).not.toBeNaN();
    expect(Date.parse(proposal.receivedAt)).not.toBeNaN();
    expect(first.body.nextCursor).toBe(String(proposal.seq));

    const second = await cp.request("GET", `/runs/${runId}/messages?limit=2&afterSeq=${first.body.nextCursor}`);
    expect(second.body.data.map((message: { messageType: string; payload: { vote: string } }) => [message.messageType, message.payload.vote])).toEqual([["Vote", "approve"]]);
    expect(second.body.nextCursor).toBeNull();
  });

  it("refuses unknown runs and bad paging", async () => {
    expect((await cp.request("GET", `/runs/${randomUUID()}/messages`)).body.errorCode).toBe("RUN_NOT_FOUND");
    expect((await cp.request("GET", `/runs/${runId}/messages?limit=0`)).status).toBe(400);
    expect((await cp.request("GET", `/runs/${runId}/messages?afterSeq=-1`)).status).toBe(400);
    const empty = await cp.request("GET", `/runs/${await seedRun(ctx)}/messages`);
    expect(empty.body).toEqual({ data: [], total: 0, limit: 200, nextCursor: null });
  });

  it("streams the whole run as JSON lines: header, every event, end line", async () => {
    const response = await fetch(`${cp.url}/runs/${runId}/export/stream?includeRaw=true`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
    const header = lines[0];
    const bundle = (await cp.request("GET", `/runs/${runId}/export?includeRaw=true`)).body;
    expect(header).toMatchObject({ type: "header", run: bundle.run, projection: bundle.projection, metrics: bundle.metrics, artifacts: [] });
    const canonical = lines.filter((line) => line.type === "canonical_event").map((line) => line.event);
    const raw = lines.filter((line) => line.type === "raw_event").map((line) => line.event);
    expect(canonical).toEqual(bundle.canonicalEvents);
    expect(raw).toEqual(bundle.rawEvents);
    expect(raw).toHaveLength(3);
    expect(lines.at(-1)).toEqual({ type: "end", runId, lastSeq: bundle.run.lastEventSeq, canonicalEvents: canonical.length, rawEvents: 3 });
    expect(lines).toHaveLength(1 + canonical.length + 3 + 1);

    const withoutRaw = (await (await fetch(`${cp.url}/runs/${runId}/export/stream`)).text()).trim().split("\n").map((line) => JSON.parse(line));
    expect(withoutRaw.some((line) => line.type === "raw_event")).toBe(false);
    expect(withoutRaw.at(-1)).toMatchObject({ type: "end", rawEvents: 0, canonicalEvents: canonical.length });
  });

  it("answers 404 and 400 as JSON before any line is streamed", async () => {
    const unknown = await cp.request("GET", `/runs/${randomUUID()}/export/stream`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errorCode).toBe("RUN_NOT_FOUND");
    expect((await cp.request("GET", `/runs/${runId}/export/stream?eventLimit=5`)).status).toBe(400);
  });
});
