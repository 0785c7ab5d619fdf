import { randomUUID } from "node:crypto";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";
import { WEBHOOK_EVENTS } from "@macp/pipeline";
import { WebhookStore } from "../webhooks/webhook-store.js";

const Timestamp = Type.String({ format: "date-time" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const EventName = Type.Union(
  WEBHOOK_EVENTS.map((event) => Type.Literal(event)),
  { description: "a run transition" },
);
const Events = Type.Array(EventName, { uniqueItems: true, maxItems: WEBHOOK_EVENTS.length, description: "subscribed events; [] = all" });
const Url = Type.String({ minLength: 1, maxLength: 2048, description: "http:// or https://; private addresses only with WEBHOOK_ALLOW_PRIVATE_URLS" });
const Secret = Type.String({ minLength: 16, maxLength: 512, description: "HMAC key of the signatures; write-only (never returned)" });

// The response schema lists every field returned: nothing else (a secret) can be serialized.
const WebhookSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deliveryStats: Type.Object({ pending: Type.Integer(), delivered: Type.Integer(), dead: Type.Integer(), lastAttemptAt: NullableTimestamp }),
});
const DeliverySchema = Type.Object({
  id: Type.String({ format: "uuid", description: "the X-MACP-Delivery header of every attempt" }),
  webhookId: Type.String({ format: "uuid" }),
  event: Type.String(),
  runId: Type.String({ format: "uuid" }),
  status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("dead")]),
  attempts: Type.Integer(),
  nextAttemptAt: NullableTimestamp,
  lastAttemptAt: NullableTimestamp,
  responseStatus: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  deliveredAt: NullableTimestamp,
});
const WebhookIdParams = Type.Object({ id: Type.String({ format: "uuid" }) });
const DeliveryParams = Type.Object({ id: Type.String({ format: "uuid" }), deliveryId: Type.String({ format: "uuid" }) });
const PingSchema = Type.Object({
  deliveryId: Type.String({ format: "uuid", description: "the X-MACP-Delivery header of the ping (pings are not in the delivery log)" }),
  event: Type.Literal("webhook.ping"),
  delivered: Type.Boolean({ description: "the receiver answered 2xx" }),
  responseStatus: Type.Union([Type.Integer(), Type.Null()], { description: "null when no answer came (refused address, timeout, connection error)" }),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
});

/** `/webhooks`: definitions (secret write-only) and the delivery log; scope `webhooks`. */
export const webhookRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const store = new WebhookStore(ctx.database.db, ctx.config.webhooks);
  const config = { scope: "webhooks" } as const;
  const tags = ["webhooks"];

  app.get("/webhooks", { config, schema: { tags, response: { 200: Type.Array(WebhookSchema), ...errorResponses(401, 403) } } }, async () => store.list());

  app.post(
    "/webhooks",
    {
      config,
      schema: {
        tags,
        body: Type.Object({ url: Url, events: Type.Optional(Events), secret: Secret, active: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 201: WebhookSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.status(201).send(await store.create(request.principal?.id ?? "unknown", request.body)),
  );

  app.get("/webhooks/:id", { config, schema: { tags, params: WebhookIdParams, response: { 200: WebhookSchema, ...errorResponses(400, 401, 403, 404) } } }, async (request) =>
    store.get(request.params.id),
  );

  app.patch(
    "/webhooks/:id",
    {
      config,
      schema: {
        tags,
        params: WebhookIdParams,
        body: Type.Object(
          { url: Type.Optional(Url), events: Type.Optional(Events), secret: Type.Optional(Secret), active: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: WebhookSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => store.update(request.params.id, request.body),
  );

  app.delete("/webhooks/:id", { config, schema: { tags, params: WebhookIdParams, response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) } } }, async (request, reply) => {
    await store.remove(request.params.id);
    return reply.status(204).send(null);
  });

  app.get(
    "/webhooks/:id/deliveries",
    {
      config,
      schema: {
        tags,
        description: "The delivery log, newest first: one row per (webhook, event), with attempts, the last response and `dead` once WEBHOOK_MAX_ATTEMPTS failed.",
        params: WebhookIdParams,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("dead")])),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(DeliverySchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => store.deliveries(request.params.id, request.query),
  );

  app.post(
    "/webhooks/:id/deliveries/:deliveryId/redeliver",
    {
      config,
      schema: {
        tags,
        description:
          "Makes a delivered or dead delivery pending again, due now, with a fresh WEBHOOK_MAX_ATTEMPTS budget; same delivery id and body. 409 `WEBHOOK_DELIVERY_PENDING` while it is pending, 409 `WEBHOOK_INACTIVE` for an inactive webhook.",
        params: DeliveryParams,
        response: { 202: DeliverySchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const delivery = await store.redeliver(request.params.id, request.params.deliveryId, new Date(ctx.webhooks.dispatcher.clock.now()));
      // A fresh occasion: a deduplicating queue must not drop it as the first publication again.
      ctx.webhooks.queue.enqueued([delivery.id], `redeliver-${randomUUID()}`);
      return reply.status(202).send(delivery);
    },
  );

  app.post(
    "/webhooks/:id/test",
    {
      config,
      schema: {
        tags,
        description:
          "Sends a signed `webhook.ping` (body `{id, event, webhookId, timestamp, data: {}}`, the usual headers) to the webhook once, now, active or not, and reports the answer. Not retried and not in the delivery log.",
        params: WebhookIdParams,
        response: { 200: PingSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const result = await ctx.webhooks.dispatcher.ping(request.params.id);
      if (!result) throw HttpError.notFound("webhook", request.params.id);
      return result;
    },
  );
};
