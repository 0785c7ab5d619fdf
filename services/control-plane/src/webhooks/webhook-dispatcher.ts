import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { sql } from "kysely";
import type { Kysely, Selectable } from "kysely";
import type { Logger } from "pino";
import { Counter } from "prom-client";
import type { Registry } from "prom-client";
import type { Database, WebhookDeliveriesTable } from "@macp/pipeline";
import type { WebhookConfig } from "./webhook-config.js";
import { openSecret } from "./webhook-secret.js";
import { WEBHOOK_HEADERS, signWebhook } from "./webhook-signature.js";
import { guardedLookup, webhookUrlProblem } from "./webhook-url.js";

/** A delivery row as the dispatcher works on it. */
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** Time and randomness of the dispatcher, injectable so tests step through retries without waiting. */
export interface WebhookClock {
  now(): number;
  random(): number;
}

/** Wall clock and Math.random. */
export const SYSTEM_CLOCK: WebhookClock = { now: () => Date.now(), random: () => Math.random() };

/** The event name of test pings (`POST /webhooks/:id/test`). */
export const PING_EVENT = "webhook.ping";

/** What a test ping got back. */
export interface PingResult {
  /** The `X-MACP-Delivery` header of the ping (a fresh id; pings are not in the delivery log). */
  readonly deliveryId: string;
  readonly event: typeof PING_EVENT;
  /** The receiver answered 2xx. */
  readonly delivered: boolean;
  readonly responseStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** What one attempt ended with. */
export type AttemptOutcome = "delivered" | "retry" | "dead";

/** An attempt's outcome, when a retry is due, and why it failed. */
export interface AttemptResult {
  readonly outcome: AttemptOutcome;
  /** Epoch ms of the next attempt (outcome `retry`). */
  readonly retryAt?: number;
  readonly error?: string;
}

/** A delivery claimed by id: attempt it, wait until `at`, or nothing is left to do. */
export type ClaimResult = { readonly kind: "claimed"; readonly delivery: DeliveryRow } | { readonly kind: "later"; readonly at: number } | { readonly kind: "gone" };

/**
 * Extra time a claim outlives the HTTP deadline before another dispatcher may take the delivery
 * (the outcome is recorded within it): as long as the deadline, between 1 and 30 s.
 */
function claimMarginMs(timeoutMs: number): number {
  return Math.max(1_000, Math.min(30_000, timeoutMs));
}
const MAX_ERROR_CHARS = 500;

/**
 * Exponential backoff with "equal jitter": the n-th retry waits between half and all of
 * min(max, base·2^(n-1)), so delays grow (until the cap) while replicas do not retry in lockstep.
 */
export function retryDelayMs(config: Pick<WebhookConfig, "retryBaseMs" | "retryMaxMs">, attempts: number, random: number): number {
  const cap = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(cap / 2 + (random * cap) / 2);
}

/**
 * Claims due deliveries from the outbox and makes single attempts, recording each outcome on the
 * row (the delivery log). Queues decide when to call it; the row is the source of truth, so a
 * crash at any point leads to another attempt with the same delivery id (at least once).
 */
export class WebhookDispatcher {
  private readonly deliveries: Counter<"outcome">;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    registry: Registry,
    readonly clock: WebhookClock = SYSTEM_CLOCK,
  ) {
    this.deliveries = new Counter({ name: "macp_webhook_deliveries_total", help: "Webhook delivery attempts by outcome (delivered, retry, dead)", labelNames: ["outcome"], registers: [registry] });
  }

  /** Claims up to `limit` pending deliveries whose time has come (or whose claim ran out). */
  async claimDue(limit: number): Promise<DeliveryRow[]> {
    if (limit <= 0) return [];
    const now = new Date(this.clock.now());
    const lockedUntil = this.claimUntil(now);
    const due = this.db
      .selectFrom("webhook_deliveries")
      .select("id")
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]));
    return this.db
      .updateTable("webhook_deliveries")
      .set({ locked_until: lockedUntil })
      .where("id", "in", due.orderBy("next_attempt_at").limit(limit).forUpdate().skipLocked())
      .returningAll()
      .execute();
  }

  /** Claims one delivery by id if it is pending, due and not claimed; else says when to look again, or that it is finished. */
  async claim(id: string): Promise<ClaimResult> {
    const now = new Date(this.clock.now());
    const delivery = await this.db
      .updateTable("webhook_deliveries")
      .set({ locked_until: this.claimUntil(now) })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
      .returningAll()
      .executeTakeFirst();
    if (delivery) return { kind: "claimed", delivery };
    const row = await this.db.selectFrom("webhook_deliveries").select(["status", "next_attempt_at", "locked_until"]).where("id", "=", id).executeTakeFirst();
    if (!row || row.status !== "pending") return { kind: "gone" };
    const at = Math.max(row.next_attempt_at?.getTime() ?? 0, row.locked_until?.getTime() ?? 0);
    return { kind: "later", at };
  }

  /** Ids of pending deliveries due before `before` and not claimed: their queue message was lost if they should have been attempted by now. */
  async overdue(before: Date, limit: number): Promise<{ id: string; nextAttemptAt: Date }[]> {
    const now = new Date(this.clock.now());
    const rows = await this.db
      .selectFrom("webhook_deliveries")
      .select(["id", "next_attempt_at"])
      .where("status", "=", "pending")
      .where("next_attempt_at", "<", before)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
      .orderBy("next_attempt_at")
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, nextAttemptAt: row.next_attempt_at as Date }));
  }

  /** One attempt of a claimed delivery; records delivered, the next retry time, or dead. Never throws. */
  async attempt(delivery: DeliveryRow): Promise<AttemptResult> {
    const started = this.clock.now();
    let status: number | undefined;
    let error: string | undefined;
    try {
      const hook = await this.db.selectFrom("webhooks").select(["url", "secret_sealed", "active"]).where("id", "=", delivery.webhook_id).executeTakeFirst();
      if (!hook) return { outcome: "dead", error: "the webhook was deleted" }; // Its deliveries went with it.
      if (!hook.active) {
        return await this.record(delivery, { final: "dead", error: "the webhook was deactivated before this delivery succeeded" });
      }
      const problem = webhookUrlProblem(hook.url, this.config.allowPrivateUrls);
      if (problem !== undefined) error = `url ${problem}`;
      else {
        status = await this.post(hook.url, hook.secret_sealed, delivery, started);
        if (status >= 200 && status < 300) return await this.record(delivery, { final: "delivered", status });
        error = `HTTP ${status}`;
      }
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const attempts = delivery.attempts + 1;
    if (attempts >= this.config.maxAttempts) return this.record(delivery, { final: "dead", status, error });
    return this.record(delivery, { final: "retry", status, error, nextAt: new Date(started + retryDelayMs(this.config, attempts, this.clock.random())) });
  }

  private claimUntil(now: Date): Date {
    return new Date(now.getTime() + this.config.timeoutMs + claimMarginMs(this.config.timeoutMs));
  }

  private async record(delivery: DeliveryRow, outcome: { final: AttemptOutcome; status?: number | undefined; error?: string | undefined; nextAt?: Date }): Promise<AttemptResult> {
    const now = new Date(this.clock.now());
    try {
      await this.db
        .updateTable("webhook_deliveries")
        .set({
          status: outcome.final === "retry" ? "pending" : outcome.final,
          attempts: sql`attempts + 1`,
          last_attempt_at: now,
          response_status: outcome.status ?? null,
          error_message: outcome.error === undefined ? null : outcome.error.slice(0, MAX_ERROR_CHARS),
          next_attempt_at: outcome.nextAt ?? null,
          locked_until: null,
          ...(outcome.final === "delivered" ? { delivered_at: now } : {}),
        })
        .where("id", "=", delivery.id)
        .execute();
    } catch (error) {
      // The claim runs out and the delivery is attempted again: at least once, same id.
      this.logger.error({ err: error, deliveryId: delivery.id }, "webhook delivery outcome not recorded");
    }
    this.deliveries.inc({ outcome: outcome.final });
    if (outcome.final !== "delivered") {
      // The webhook id, never its URL (URLs often embed tokens) or secret.
      this.logger.warn({ webhookId: delivery.webhook_id, deliveryId: delivery.id, attempt: delivery.attempts + 1, outcome: outcome.final, status: outcome.status, error: outcome.error }, "webhook delivery failed");
    }
    return { outcome: outcome.final, ...(outcome.nextAt ? { retryAt: outcome.nextAt.getTime() } : {}), ...(outcome.error !== undefined ? { error: outcome.error } : {}) };
  }

  /**
   * Sends a signed `webhook.ping` to the webhook once, now, whether it is active or not, and
   * reports the answer; it is not a delivery (no outbox row, no retry). Undefined for an unknown webhook.
   */
  async ping(webhookId: string): Promise<PingResult | undefined> {
    const hook = await this.db.selectFrom("webhooks").select(["url", "secret_sealed"]).where("id", "=", webhookId).executeTakeFirst();
    if (!hook) return undefined;
    const started = this.clock.now();
    const id = randomUUID();
    const body = JSON.stringify({ id, event: PING_EVENT, webhookId, timestamp: new Date(started).toISOString(), data: {} });
    const finish = (status: number | null, error: string | null): PingResult => ({ deliveryId: id, event: PING_EVENT, delivered: status !== null && status >= 200 && status < 300, responseStatus: status, error, durationMs: Math.max(0, this.clock.now() - started) });
    const problem = webhookUrlProblem(hook.url, this.config.allowPrivateUrls);
    if (problem !== undefined) return finish(null, `url ${problem}`);
    try {
      const status = await this.post(hook.url, hook.secret_sealed, { id, event: PING_EVENT, body }, started);
      return finish(status, status >= 200 && status < 300 ? null : `HTTP ${status}`);
    } catch (caught) {
      return finish(null, (caught instanceof Error ? caught.message : String(caught)).slice(0, MAX_ERROR_CHARS));
    }
  }

  /** POSTs `delivery.body` signed with the webhook's secret at `at` (epoch ms); resolves with the HTTP status. */
  private post(url: string, secretSealed: string, delivery: Pick<DeliveryRow, "id" | "event" | "body">, at: number): Promise<number> {
    const timestamp = Math.floor(at / 1000);
    const signature = signWebhook(openSecret(secretSealed, this.config.secretKey), timestamp, delivery.body);
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      const req = send(
        target,
        {
          method: "POST",
          lookup: guardedLookup(this.config.allowPrivateUrls),
          signal: AbortSignal.timeout(this.config.timeoutMs),
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(delivery.body),
            "user-agent": "macp-control-plane-webhooks",
            [WEBHOOK_HEADERS.event]: delivery.event,
            [WEBHOOK_HEADERS.delivery]: delivery.id,
            [WEBHOOK_HEADERS.timestamp]: String(timestamp),
            [WEBHOOK_HEADERS.signature]: signature,
          },
        },
        (response) => {
          // The body is not used; read it so the socket is released.
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      req.on("error", (error) => reject(error.name === "AbortError" ? new Error(`no answer within ${this.config.timeoutMs} ms`) : error));
      req.end(delivery.body);
    });
  }
}
