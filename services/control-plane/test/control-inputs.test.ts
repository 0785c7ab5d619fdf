import { participantSeenEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRepository } from "../src/runs/run-repository.js";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { seedRun } from "./support/seed-run.js";

/** The control plane's own events and transitions reach the store only through the projector. */
describe("control inputs on the bus", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite");
  }, 120_000);
  afterAll(async () => {
    await cp?.close();
  });

  const seen = (rawKey: string, participantId: string) => ({ rawKey, drafts: [participantSeenEvent({ ts: new Date().toISOString(), participantId })] });

  it("are stored in publish order, once however often an input is published", async () => {
    const { control, database } = cp.handle.context;
    const runId = await seedRun(cp.handle.context);
    await control.publish(runId, { kind: "control", events: [seen("first", "p1")] });
    await control.publish(runId, { kind: "control", events: [seen("second", "p2")] });
    // A step retried after a restart publishes the same input again: nothing new is stored.
    await control.publish(runId, { kind: "control", events: [seen("first", "p1")] });
    const cancelled = await control.apply(runId, { kind: "control", events: [], transition: { target: "cancelled", reason: "done" } }, async () => {
      const row = await runRepository.get(database.db, runId);
      return row?.status === "cancelled" ? row : undefined;
    });
    expect(cancelled.last_event_seq).toBe(3);
    const events = (await cp.request("GET", `/runs/${runId}/events?limit=100`)).body.data;
    expect(events.map((event: { seq: number; type: string; data: { participantId?: string } }) => [event.seq, event.type, event.data.participantId])).toEqual([
      [1, "participant.seen", "p1"],
      [2, "participant.seen", "p2"],
      [3, "run.cancelled", undefined],
    ]);
  });

  it("store a transition's own events only when the run moved", async () => {
    const { control, database } = cp.handle.context;
    const runId = await seedRun(cp.handle.context);
    await control.publish(runId, { kind: "control", events: [], transition: { target: "cancelled" } });
    // Running → binding_session is no move a cancelled run makes: its events are not stored.
    await control.publish(runId, { kind: "control", events: [], transition: { target: "binding_session", events: [seen("bound", "late")] } });
    const marker = await control.apply(runId, { kind: "control", events: [seen("marker", "m")] }, async () => {
      const row = await runRepository.get(database.db, runId);
      return row !== undefined && row.last_event_seq >= 2 ? row : undefined;
    });
    expect(marker.status).toBe("cancelled");
    const types = (await cp.request("GET", `/runs/${runId}/events?limit=100`)).body.data.map((event: { type: string; data: { participantId?: string } }) => event.data.participantId ?? event.type);
    expect(types).toEqual(["run.cancelled", "m"]);
  });

  it("answers an API cancel with the run the projector moved", async () => {
    const runId = await seedRun(cp.handle.context);
    const answer = await cp.request("POST", `/runs/${runId}/cancel`, { body: { reason: "enough" } });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe("cancelled");
    expect((await cp.request("GET", `/runs/${runId}`)).body.status).toBe("cancelled");
  });
});
