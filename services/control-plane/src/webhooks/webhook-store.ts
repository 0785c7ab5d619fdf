import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Kysely, Selectable } from "kysely";
import type { Database, WebhookDeliveriesTable, WebhookDeliveryStatus, WebhooksTable } from "@macp/pipeline";
import { HttpError } from "../http/errors.js";
import { iso } from "../runs/run-record.js";
import type { WebhookConfig } from "./webhook-config.js";
import { sealSecret } from "./webhook-secret.js";
import { webhookUrlProblem } from "./webhook-url.js";

/** A webhook as the API returns it: never its secret. */
export interface ApiWebhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
  deliveryStats: { pending: number; delivered: number; dead: number; lastAttemptAt: string | null };
}

/** One row of the delivery log. */
export interface ApiDelivery {
  id: string;
  webhookId: string;
  event: string;
  runId: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  responseStatus: number | null;
  error: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** Fields a caller may set. */
export interface WebhookInput {
  url?: string;
  events?: string[];
  secret?: string;
  active?: boolean;
}

type WebhookRow = Selectable<WebhooksTable>;

function apiDelivery(row: Selectable<WebhookDeliveriesTable>): ApiDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    event: row.event,
    runId: row.run_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: iso(row.next_attempt_at),
    lastAttemptAt: iso(row.last_attempt_at),
    responseStatus: row.response_status,
    error: row.error_message,
    createdAt: iso(row.created_at) as string,
    deliveredAt: iso(row.delivered_at),
  };
}

/** Webhook definitions and their delivery log; secrets go in sealed and never come out. */
export class WebhookStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: WebhookConfig,
  ) {}

  async create(principal: string, input: Required<Pick<WebhookInput, "url" | "secret">> & WebhookInput): Promise<ApiWebhook> {
    this.checkUrl(input.url);
    const row = await this.db
      .insertInto("webhooks")
      .values({
        id: randomUUID(),
        url: input.url,
        events: JSON.stringify(input.events ?? []),
        secret_sealed: sealSecret(input.secret, this.config.secretKey),
        active: input.active ?? true,
        principal,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return (await this.withStats([row]))[0] as ApiWebhook;
  }

  async list(): Promise<ApiWebhook[]> {
    return this.withStats(await this.db.selectFrom("webhooks").selectAll().orderBy("created_at").orderBy("id").execute());
  }

  async get(id: string): Promise<ApiWebhook> {
    return (await this.withStats([await this.row(id)]))[0] as ApiWebhook;
  }

  async update(id: string, input: WebhookInput): Promise<ApiWebhook> {
    if (input.url !== undefined) this.checkUrl(input.url);
    const row = await this.db
      .updateTable("webhooks")
      .set({
        updated_at: sql`now()`,
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.events !== undefined ? { events: JSON.stringify(input.events) } : {}),
        ...(input.secret !== undefined ? { secret_sealed: sealSecret(input.secret, this.config.secretKey) } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw HttpError.notFound("webhook", id);
    return (await this.withStats([row]))[0] as ApiWebhook;
  }

  /** Deletes the webhook and its delivery log; pending deliveries are dropped. */
  async remove(id: string): Promise<void> {
    const deleted = await this.db.deleteFrom("webhooks").where("id", "=", id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw HttpError.notFound("webhook", id);
  }

  /** The delivery log of one webhook, newest first. */
  async deliveries(id: string, query: { status?: WebhookDeliveryStatus; limit: number; offset: number }): Promise<{ data: ApiDelivery[]; total: number; limit: number; offset: number }> {
    await this.row(id);
    let base = this.db.selectFrom("webhook_deliveries").where("webhook_id", "=", id);
    if (query.status !== undefined) base = base.where("status", "=", query.status);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(query.limit).offset(query.offset).execute(),
      base.select((eb) => eb.fn.countAll<string>().as("total")).executeTakeFirstOrThrow(),
    ]);
    return {
      data: rows.map(apiDelivery),
      total: Number(count.total),
      limit: query.limit,
      offset: query.offset,
    };
  }

  /**
   * Makes a delivered or dead delivery of this webhook pending again, due now, with a fresh
   * attempt budget (the same id and body: receivers see a repeat they can dedupe). The previous
   * outcome stays in the log until the next attempt replaces it. 404 for a delivery of another
   * webhook; 409 while it is still pending or the webhook is inactive (it would die at once).
   */
  async redeliver(webhookId: string, deliveryId: string, now: Date): Promise<ApiDelivery> {
    const hook = await this.row(webhookId);
    const current = await this.db.selectFrom("webhook_deliveries").select("status").where("id", "=", deliveryId).where("webhook_id", "=", webhookId).executeTakeFirst();
    if (!current) throw new HttpError(404, "WEBHOOK_DELIVERY_NOT_FOUND", `delivery ${deliveryId} of webhook ${webhookId} not found`);
    if (!hook.active) throw new HttpError(409, "WEBHOOK_INACTIVE", `webhook ${webhookId} is inactive: activate it before redelivering`);
    const row = await this.db
      .updateTable("webhook_deliveries")
      .set({ status: "pending", attempts: 0, next_attempt_at: now, locked_until: null, delivered_at: null })
      .where("id", "=", deliveryId)
      .where("webhook_id", "=", webhookId)
      .where("status", "!=", "pending")
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new HttpError(409, "WEBHOOK_DELIVERY_PENDING", `delivery ${deliveryId} is still pending: it is attempted without a redelivery`);
    return apiDelivery(row);
  }

  private checkUrl(url: string): void {
    const problem = webhookUrlProblem(url, this.config.allowPrivateUrls);
    if (problem !== undefined) throw HttpError.validation([{ path: "body/url", message: problem }]);
  }

  private async row(id: string): Promise<WebhookRow> {
    const row = await this.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw HttpError.notFound("webhook", id);
    return row;
  }

  private async withStats(rows: readonly WebhookRow[]): Promise<ApiWebhook[]> {
    const ids = rows.map((row) => row.id);
    const stats =
      ids.length === 0
        ? []
        : await this.db
            .selectFrom("webhook_deliveries")
            .select((eb) => ["webhook_id", "status", eb.fn.countAll<string>().as("count"), eb.fn.max("last_attempt_at").as("last")])
            .where("webhook_id", "in", ids)
            .groupBy(["webhook_id", "status"])
            .execute();
    return rows.map((row) => {
      const mine = stats.filter((stat) => stat.webhook_id === row.id);
      const count = (status: WebhookDeliveryStatus): number => Number(mine.find((stat) => stat.status === status)?.count ?? 0);
      const last = mine
        .map((stat) => (stat.last === null ? undefined : iso(stat.last as Date)))
        .filter((value): value is string => value !== undefined)
        .sort()
        .at(-1);
      return {
        id: row.id,
        url: row.url,
        events: row.events,
        active: row.active,
        createdAt: iso(row.created_at) as string,
        updatedAt: iso(row.updated_at) as string,
        deliveryStats: { pending: count("pending"), delivered: count("delivered"), dead: count("dead"), lastAttemptAt: last ?? null },
      };
    });
  }
}
