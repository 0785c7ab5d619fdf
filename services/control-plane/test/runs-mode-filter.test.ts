import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { seedRun } from "./support/seed-run.js";

describe.each(DATABASE_KINDS)("GET /runs?modeName (the viewer's mode filter) on %s", (kind) => {
  let cp: TestControlPlane;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    cp = await startTestControlPlane(kind);
    for (const mode of ["macp.mode.decision.v1", "macp.mode.task.v1", "macp.mode.decision.v1"]) {
      const id = await seedRun(cp.handle.context);
      await cp.handle.context.database.db
        .updateTable("runs")
        .set({ metadata: JSON.stringify({ executionRequest: { session: { modeName: mode, participants: [{ id: "alice" }] } } }) })
        .where("id", "=", id)
        .execute();
      ids[id] = mode;
    }
  }, 120_000);
  afterAll(async () => {
    await cp?.close();
  });

  it("lists only the runs whose session uses that mode, with the total of the filter", async () => {
    const decision = await cp.request("GET", "/runs?modeName=macp.mode.decision.v1");
    expect(decision.status).toBe(200);
    expect(decision.body.total).toBe(2);
    expect(decision.body.data.map((run: { id: string }) => ids[run.id])).toEqual(["macp.mode.decision.v1", "macp.mode.decision.v1"]);
    const task = await cp.request("GET", "/runs?modeName=macp.mode.task.v1&limit=1");
    expect(task.body.total).toBe(1);
    expect((await cp.request("GET", "/runs?modeName=macp.mode.quorum.v1")).body.total).toBe(0);
    expect((await cp.request("GET", "/runs?modeName=")).status).toBe(400);
  });
});
