import { randomUUID } from "node:crypto";
import type { CanonicalEvent } from "@macp/events";
import type { Transaction } from "kysely";
import type { Database, RunRow } from "@macp/pipeline";

/** Events a webhook can subscribe to: the run status transitions (control-plane.md §2.11, with [B]'s suspend/resume). */
export const WEBHOOK_EVENTS = ["run.started", "run.completed", "run.failed", "run.cancelled", "run.suspended", "run.resumed"] as const;
/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const SUBSCRIBABLE: ReadonlySet<string> = new Set(WEBHOOK_EVENTS);

/** The JSON body every attempt of a delivery sends, byte for byte. */
export interface WebhookBody {
  /** The delivery id (also the `X-MACP-Delivery` header). */
  id: string;
  event: WebhookEvent;
  runId: string;
  /** The run's status after the transition. */
  status: string;
  /** When the event happened (ISO). */
  timestamp: string;
  /** The canonical event's data (`error` for `run.failed`, `reason` for cancel/suspend/resume, …). */
  data: Record<string, unknown>;
}

/**
 * Writes one `pending` delivery per active webhook subscribed to each `run.*` event, in the
 * caller's transaction (the one that moved the run and appended the event), so the run change
 * and its deliveries commit or roll back together. Returns the new delivery ids; an event already
 * enqueued for a webhook (a retried transition) is not enqueued twice.
 */
export async function enqueueWebhookDeliveries(trx: Transaction<Database>, run: RunRow, events: readonly CanonicalEvent[], now: Date): Promise<string[]> {
  const relevant = events.filter((event) => SUBSCRIBABLE.has(event.type));
  if (relevant.length === 0) return [];
  const hooks = await trx.selectFrom("webhooks").select(["id", "events"]).where("active", "=", true).execute();
  const rows = relevant.flatMap((event) =>
    hooks
      .filter((hook) => hook.events.length === 0 || hook.events.includes(event.type))
      .map((hook) => {
        const id = randomUUID();
        const body: WebhookBody = { id, event: event.type as WebhookEvent, runId: run.id, status: run.status, timestamp: event.ts, data: event.data };
        return { id, webhook_id: hook.id, event: event.type, run_id: run.id, event_id: event.id, body: JSON.stringify(body), status: "pending" as const, next_attempt_at: now };
      }),
  );
  if (rows.length === 0) return [];
  const inserted = await trx
    .insertInto("webhook_deliveries")
    .values(rows)
    .onConflict((conflict) => conflict.columns(["webhook_id", "event_id"]).doNothing())
    .returning("id")
    .execute();
  return inserted.map((row) => row.id);
}
