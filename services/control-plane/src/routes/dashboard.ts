import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { agentMetrics, dashboardOverview } from "../dashboard/overview.js";
import { DASHBOARD_WINDOWS, dashboardRange } from "../dashboard/windows.js";
import type { DashboardWindow } from "../dashboard/windows.js";
import { HttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";

const WindowSchema = Type.Union(
  Object.keys(DASHBOARD_WINDOWS).map((window) => Type.Literal(window)),
  { default: "24h" },
);

/** `GET /dashboard/overview` and `GET /dashboard/agents/metrics`. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const read = { scope: "runs:read" } as const;

  app.get(
    "/dashboard/overview",
    {
      config: read,
      schema: {
        tags: ["dashboard"],
        description: "KPIs of the runs created in the window, time series `{labels (ISO bucket starts), data}` (minute buckets up to 6 h, hours up to 48 h, days beyond), the 10 newest runs and the runtime's health. Sandbox runs are left out.",
        querystring: Type.Object(
          {
            window: WindowSchema,
            range: Type.Optional(Type.Union(Object.keys(DASHBOARD_WINDOWS).map((window) => Type.Literal(window)), { description: "deprecated alias of window" })),
            from: Type.Optional(Type.String({ format: "date-time" })),
            to: Type.Optional(Type.String({ format: "date-time" })),
            scenarioRef: Type.Optional(Type.String({ maxLength: 255 })),
            environment: Type.Optional(Type.String({ maxLength: 255 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            kpis: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
            charts: Type.Record(Type.String(), Type.Object({ labels: Type.Array(Type.String()), data: Type.Array(Type.Number()) })),
            recentRuns: Type.Array(Type.Unknown()),
            runtimeHealth: Type.Object({ ok: Type.Boolean(), runtimeKind: Type.String(), detail: Type.String() }),
            window: Type.Object({ from: Type.String(), to: Type.String(), bucketMs: Type.Integer() }),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { window, range: alias, from, to, scenarioRef, environment } = request.query;
      const chosen = (alias ?? window) as DashboardWindow;
      const range = dashboardRange(chosen, new Date(), from !== undefined ? new Date(from) : undefined, to !== undefined ? new Date(to) : undefined);
      if (range.from.getTime() >= range.to.getTime()) throw HttpError.validation([{ path: "querystring/from", message: "must be before to" }]);
      if (range.labels.length > 1500) throw HttpError.validation([{ path: "querystring/from", message: "range too long (at most 1500 buckets)" }]);
      const [overview, probe] = await Promise.all([
        dashboardOverview(db, range, { ...(scenarioRef !== undefined ? { scenarioRef } : {}), ...(environment !== undefined ? { environment } : {}) }),
        ctx.runtime.probe(),
      ]);
      return {
        ...overview,
        runtimeHealth: { ok: probe.ok, runtimeKind: probe.runtimeKind, detail: probe.detail },
        window: { from: range.from.toISOString(), to: range.to.toISOString(), bucketMs: range.bucketMs },
      };
    },
  );

  app.get(
    "/dashboard/agents/metrics",
    {
      config: read,
      schema: {
        tags: ["dashboard"],
        description: "Per participant: runs it took part in, messages it sent, signals it emitted, average confidence of its decision contributions.",
        response: {
          200: Type.Array(
            Type.Object({ participantId: Type.String(), runs: Type.Integer(), messages: Type.Integer(), signals: Type.Integer(), averageConfidence: Type.Number({ description: "0 when none of its contributions carried a confidence" }) }),
          ),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => agentMetrics(db),
  );
};
