import { applyEvent, emptyRunState } from "@macp/events";
import type { RunStateProjection } from "@macp/events";
import type { EventPages } from "../streaming/event-pages.js";

/**
 * The projection of `runId` after the events with `seq <= seq` (all when undefined), folded from
 * the empty projection page by page, so memory stays bounded by one page.
 */
export async function stateAt(pages: EventPages, runId: string, seq: number | undefined, pageSize: number): Promise<RunStateProjection> {
  let state = emptyRunState(runId);
  let cursor = 0;
  for (;;) {
    const events = await pages.page(runId, cursor, pageSize, seq);
    for (const event of events) state = applyEvent(state, event);
    const last = events.at(-1);
    if (!last || events.length < pageSize) return state;
    cursor = last.seq;
  }
}
