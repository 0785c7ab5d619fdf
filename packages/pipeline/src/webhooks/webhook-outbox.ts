import { createHash } from "node:crypto";
import type { CanonicalEvent } from "@macp/events";
import type { Transaction } from "kysely";
import type { Database, RunRow } from "../store/schema.js";
import type { TransitionOutbox } from "../store/run-lifecycle.js";

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

// RFC 4122 namespace of delivery ids (a random constant of this project).
const DELIVERY_NAMESPACE = Buffer.from("5b0c6c1e9d3a4f7e8a2b1c0d9e8f7a6b", "hex");

/**
 * The delivery id of `eventId` for `webhookId`: a name-based (v5) UUID, so every process that
 * applies the same transition derives the same id, and receivers can deduplicate on it.
 */
export function webhookDeliveryId(webhookId: string, eventId: string): string {
  const hash = createHash("sha1").update(DELIVERY_NAMESPACE).update(`${webhookId}:${eventId}`, "utf8").digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Writes one `pending` delivery per active webhook subscribed to each `run.*` event, in the
 * caller's transaction (the one that moved the run and appended the event), so the run change
 * and its deliveries commit or roll back together. Returns the new delivery ids; an event already
 * enqueued for a webhook (a retried transition, or another process applying it) is not enqueued
 * twice: the id is {@link webhookDeliveryId} and (webhook, event) is unique.
 */
export async function enqueueWebhookDeliveries(trx: Transaction<Database>, run: RunRow, events: readonly CanonicalEvent[], now: Date): Promise<string[]> {
  const relevant = events.filter((event) => SUBSCRIBABLE.has(event.type));
  if (relevant.length === 0) return [];
  const hooks = await trx.selectFrom("webhooks").select(["id", "events"]).where("active", "=", true).execute();
  const rows = relevant.flatMap((event) =>
    hooks
      .filter((hook) => hook.events.length === 0 || hook.events.includes(event.type))
      .map((hook) => {
        const id = webhookDeliveryId(hook.id, event.id);
        const body: WebhookBody = { id, event: event.type as WebhookEvent, runId: run.id, status: run.status, timestamp: event.ts, data: event.data };
        return { id, webhook_id: hook.id, event: event.type, run_id: run.id, event_id: event.id, body: JSON.stringify(body), status: "pending" as const, next_attempt_at: now };
      }),
  );
  if (rows.length === 0) return [];
  const inserted = await trx.insertInto("webhook_deliveries").values(rows).onConflict((conflict) => conflict.doNothing()).returning("id").execute();
  return inserted.map((row) => row.id);
}

/**
 * The outbox of a process that applies run transitions (control plane or projection worker):
 * deliveries are written with the transition; `committed` hears the new ids after the commit
 * (a queue publishes them; without one, a dispatcher's outbox scan finds the rows).
 */
export function webhookTransitionOutbox(options: { now?: () => number; committed?: (ids: readonly string[]) => void } = {}): TransitionOutbox {
  const now = options.now ?? Date.now;
  return {
    record: (trx, run, events) => enqueueWebhookDeliveries(trx, run, events, new Date(now())),
    committed: (ids) => {
      if (ids.length > 0) options.committed?.(ids);
    },
  };
}
