import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";

const State = Type.Union([Type.Literal("CLOSED"), Type.Literal("OPEN"), Type.Literal("HALF_OPEN")]);
const Timestamp = Type.String({ format: "date-time" });
const WINDOWS_MS: Readonly<Record<string, number>> = { "1h": 3_600_000, "6h": 21_600_000, "24h": 86_400_000, "7d": 604_800_000 };

/** `/admin/circuit-breaker`: the runtime circuit breaker of this instance; scope `admin`. */
export const adminRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { breaker } = ctx.runtime;
  const config = { scope: "admin" } as const;
  const tags = ["admin"];

  app.get(
    "/admin/circuit-breaker",
    {
      config,
      schema: {
        tags,
        description: "The breaker's state and counters (per process).",
        response: {
          200: Type.Object({
            state: State,
            consecutiveFailures: Type.Integer(),
            threshold: Type.Integer(),
            resetMs: Type.Integer(),
            openedAt: Type.Union([Timestamp, Type.Null()]),
            retryAt: Type.Union([Timestamp, Type.Null()], { description: "when an open breaker lets a trial call through" }),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => breaker.describe(),
  );

  app.post(
    "/admin/circuit-breaker/reset",
    { config, schema: { tags, description: "Closes the breaker.", response: { 200: Type.Object({ status: Type.Literal("ok"), state: State }), ...errorResponses(401, 403) } } },
    async () => ({ status: "ok" as const, state: breaker.reset() }),
  );

  app.get(
    "/admin/circuit-breaker/history",
    {
      config,
      schema: {
        tags,
        description: "State changes, oldest first (the last 200 of this process), optionally those within `window` or since `since`.",
        querystring: Type.Object(
          { window: Type.Optional(Type.Union(Object.keys(WINDOWS_MS).map((key) => Type.Literal(key)))), since: Type.Optional(Type.String({ format: "date-time" })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ state: State, history: Type.Array(Type.Object({ state: State, enteredAt: Timestamp, reason: Type.String() })) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { window, since } = request.query;
      if (window !== undefined && since !== undefined) throw HttpError.validation([{ path: "querystring/since", message: "give window or since, not both" }]);
      const from = since !== undefined ? Date.parse(since) : window !== undefined ? Date.now() - (WINDOWS_MS[window] as number) : 0;
      return { state: breaker.state, history: breaker.history(from) };
    },
  );
};
