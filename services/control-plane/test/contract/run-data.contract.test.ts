import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completedDecisionRun, startContractStack } from "./support/contract-stack.js";
import type { ContractStack } from "./support/contract-stack.js";
import { arrayOf, expectShape, objectWith } from "./support/shape.js";
import { artifact, canonicalEvent, eventPage, metricsSummary, runStateProjection, traceSummary } from "./support/ui-shapes.js";

/** UI contract, run read models (§1.1, §1.4, §1.5, §11): state, events, cross-run events, metrics, traces, artifacts. */
describe("UI contract: run data", () => {
  let stack: ContractStack;
  let runId: string;
  beforeAll(async () => {
    stack = await startContractStack();
    ({ runId } = await completedDecisionRun(stack, { scenarioRef: "data-scenario@1" }));
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("GET /runs/:id/state → the full RunStateProjection of a finished decision run", async () => {
    const state = await stack.cp.request("GET", `/runs/${runId}/state`);
    expect(state.status).toBe(200);
    expectShape(state.body, runStateProjection);
    const { run, decision, participants, timeline, policy } = state.body;
    expect(run).toMatchObject({ runId, status: "completed", modeName: "macp.mode.decision.v1" });
    expect(decision.current).toMatchObject({ finalized: true, outcomePositive: true, resolvedBy: "alice" });
    expectShape(decision.current.proposals, arrayOf(objectWith({ participantId: "string" }), true));
    expect(participants.map((participant: { participantId: string }) => participant.participantId).sort()).toEqual(["alice", "bob"]);
    expect(timeline.latestSeq).toBeGreaterThan(0);
    expect(timeline.totalEvents).toBeGreaterThan(0);
    expect(timeline.recent.length).toBeGreaterThan(0);
    expect(policy.policyVersion).toBe("policy.default");
  });

  it("GET /runs/:id/events?limit=500&afterSeq=N (the UI's query) → {data} of nested events the UI normalizes", async () => {
    const all = await stack.cp.request("GET", `/runs/${runId}/events?limit=500&afterSeq=0`);
    expect(all.status).toBe(200);
    expectShape(all.body, eventPage);
    const seqs = all.body.data.map((event: { seq: number }) => event.seq);
    const after = await stack.cp.request("GET", `/runs/${runId}/events?limit=500&afterSeq=${seqs[2]}`);
    expect(after.body.data.map((event: { seq: number }) => event.seq)).toEqual(seqs.slice(3));
    const received = all.body.data.find((event: { type: string }) => event.type === "message.received");
    expect(received.source).toMatchObject({ kind: "runtime", name: expect.any(String) });
    expect(received.subject).toMatchObject({ kind: expect.any(String), id: expect.any(String) });
  });

  it("GET /runs/:id/events with afterTs, beforeTs and a type list → {data, total, limit, nextCursor}", async () => {
    const all = (await stack.cp.request("GET", `/runs/${runId}/events?limit=500&afterSeq=0`)).body.data;
    const from = all[0].ts;
    const to = new Date(Date.parse(all.at(-1).ts) + 1).toISOString();
    const filtered = await stack.cp.request("GET", `/runs/${runId}/events?limit=500&afterSeq=0&afterTs=${encodeURIComponent(from)}&beforeTs=${encodeURIComponent(to)}&type=decision.finalized,run.completed`);
    expect(filtered.status).toBe(200);
    expectShape(filtered.body, eventPage);
    expect(filtered.body.data.map((event: { type: string }) => event.type)).toEqual(["decision.finalized", "run.completed"]);
    expect(filtered.body.total).toBe(2);
  });

  it("GET /events (cross-run, the UI's query) → {data[], total, nextCursor}", async () => {
    const query = `runId=${runId}&scenarioRef=data-scenario%401&type=message.received&afterSeq=0&afterTs=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&beforeTs=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}&limit=500`;
    const events = await stack.cp.request("GET", `/events?${query}`);
    expect(events.status).toBe(200);
    expectShape(events.body, eventPage);
    expect(events.body.data.map((event: { data: { messageType: string } }) => event.data.messageType)).toEqual(["SessionStart", "Proposal", "Evaluation", "Vote", "Commitment"]);
    expect(events.body.nextCursor).toBeNull();

    const everything = await stack.cp.request("GET", "/events?limit=500");
    expectShape(everything.body, eventPage);
    // The UI sets afterSeq whenever its query has one, also without a runId; 0 means from the start.
    const fromStart = await stack.cp.request("GET", "/events?type=run.completed&afterSeq=0&limit=500");
    expect(fromStart.status).toBe(200);
    expectShape(fromStart.body.data, arrayOf(canonicalEvent, true));
  });

  it("GET /runs/:id/metrics → MetricsSummary", async () => {
    const metrics = await stack.cp.request("GET", `/runs/${runId}/metrics`);
    expect(metrics.status).toBe(200);
    expectShape(metrics.body, metricsSummary);
    expect(metrics.body).toMatchObject({ runId, decisionCount: 1 });
    expect(metrics.body.proposalCount).toBeGreaterThanOrEqual(1);
    expect(metrics.body.messageCount).toBeGreaterThanOrEqual(4);
  });

  it("GET /runs/:id/traces → {traceId, spanCount, lastSpanId, linkedArtifacts}", async () => {
    const traces = await stack.cp.request("GET", `/runs/${runId}/traces`);
    expect(traces.status).toBe(200);
    expectShape(traces.body, traceSummary);
    // No all-zero trace id: absent means unknown (the UI skips Jaeger for it).
    expect(traces.body.traceId).not.toBe("00000000000000000000000000000000");
  });

  it("POST /runs/:id/artifacts {kind, label, uri?, inline?} → artifact; GET /runs/:id/artifacts → [artifact]", async () => {
    const created = await stack.cp.request("POST", `/runs/${runId}/artifacts`, { body: { kind: "report", label: "Summary", inline: { verdict: "deploy" } } });
    expect(created.status).toBe(201);
    expectShape(created.body, artifact);
    const linked = await stack.cp.request("POST", `/runs/${runId}/artifacts`, { body: { kind: "trace", label: "External trace", uri: "https://jaeger.example/trace/1" } });
    expectShape(linked.body, artifact);
    const listed = await stack.cp.request("GET", `/runs/${runId}/artifacts`);
    expect(listed.status).toBe(200);
    expectShape(listed.body, arrayOf(artifact, true));
    expect(listed.body.map((item: { id: string }) => item.id)).toEqual([created.body.id, linked.body.id]);
    const traces = (await stack.cp.request("GET", `/runs/${runId}/traces`)).body;
    expect(traces.linkedArtifacts).toEqual(expect.arrayContaining([created.body.id, linked.body.id]));
  });
});
