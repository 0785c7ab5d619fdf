import type { CanonicalEvent, RunStateProjection } from "@macp/events";
import type { Kysely } from "kysely";
import { eventStore, fromEventRow } from "@macp/pipeline";
import type { Database } from "@macp/pipeline";

/** Read access to a run's stored events, in pages ordered by seq. */
export interface EventPages {
  /** Up to `limit` events with `afterSeq < seq <= upToSeq`, ordered by seq. */
  page(runId: string, afterSeq: number, limit: number, upToSeq?: number): Promise<CanonicalEvent[]>;
  /** The stored projection of the run. */
  state(runId: string): Promise<RunStateProjection>;
}

/** {@link EventPages} over the control plane's database. */
export function databaseEventPages(db: Kysely<Database>): EventPages {
  return {
    async page(runId, afterSeq, limit, upToSeq) {
      let query = db.selectFrom("run_events_canonical").selectAll().where("run_id", "=", runId).where("seq", ">", afterSeq);
      if (upToSeq !== undefined) query = query.where("seq", "<=", upToSeq);
      return (await query.orderBy("seq").limit(limit).execute()).map(fromEventRow);
    },
    state: (runId) => eventStore.state(db, runId),
  };
}
