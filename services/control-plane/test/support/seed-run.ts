import { randomUUID } from "node:crypto";
import { participantSeenEvent } from "@macp/events";
import type { ControlPlaneContext } from "../../src/context.js";
import { eventStore } from "@macp/pipeline";

/** Inserts a `running` run with no runtime session (streams and replays only read the store). */
export async function seedRun(ctx: ControlPlaneContext): Promise<string> {
  const id = randomUUID();
  await ctx.database.db
    .insertInto("runs")
    .values({
      id,
      status: "running",
      mode: "live",
      runtime_kind: "rust",
      runtime_version: null,
      runtime_session_id: null,
      trace_id: null,
      principal: "dev",
      idempotency_key: null,
      request_hash: null,
      source_kind: null,
      source_ref: null,
      tags: JSON.stringify([]),
      metadata: JSON.stringify({}),
      error_code: null,
      error_message: null,
    })
    .execute();
  return id;
}

let counter = 0;

/** Appends `count` events, one committed transaction each, published like ingest does; returns their seqs. */
export async function appendEvents(ctx: ControlPlaneContext, runId: string, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let index = 0; index < count; index += 1) {
    counter += 1;
    const append = await ctx.database.db.transaction().execute((trx) =>
      eventStore.appendControl(trx, runId, { rawKey: `seed:${counter}`, drafts: [participantSeenEvent({ ts: new Date().toISOString(), participantId: `agent-${counter}` })] }),
    );
    ctx.lifecycle.publish(append);
    seqs.push(...(append?.events.map((event) => event.seq) ?? []));
  }
  return seqs;
}

/** Moves the run to `status` (with its run.* event), as the lifecycle does. */
export async function endRun(ctx: ControlPlaneContext, runId: string, status: "completed" | "failed" | "cancelled"): Promise<void> {
  const outcome = await ctx.database.db.transaction().execute((trx) => ctx.lifecycle.transition(trx, runId, status));
  ctx.lifecycle.published(outcome);
}
