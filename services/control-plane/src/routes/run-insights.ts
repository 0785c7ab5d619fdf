import { Readable } from "node:stream";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { ApiRunSchema, RunIdParams, errorResponses } from "../http/schemas.js";
import { eventStore } from "@macp/pipeline";
import { compareRuns } from "../insights/run-compare.js";
import type { CompareInput } from "../insights/run-compare.js";
import { exportLines, exportRun, readExportHeader, toJsonLines } from "../insights/run-export.js";
import { runRepository } from "../runs/run-repository.js";

/** Query of `GET /runs/:id/export`. */
export const ExportQuery = Type.Object(
  {
    includeCanonical: Type.Boolean({ default: true }),
    includeRaw: Type.Boolean({ default: false }),
    eventLimit: Type.Integer({ minimum: 1, maximum: 50_000, default: 10_000 }),
    format: Type.Union([Type.Literal("json"), Type.Literal("jsonl")], { default: "json" }),
  },
  { additionalProperties: false },
);

const NullableString = Type.Union([Type.String(), Type.Null()]);
const SessionSchema = Type.Object({
  runtimeSessionId: Type.String(),
  modeName: Type.String(),
  modeVersion: NullableString,
  configurationVersion: NullableString,
  policyVersion: NullableString,
  initiatorParticipantId: NullableString,
  sessionState: Type.String(),
  participants: Type.Array(Type.String()),
  lastRuntimeSeq: Type.Integer(),
  streamConnectedAt: NullableString,
  streamDisconnectedAt: NullableString,
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
});

/** The export bundle (events in the one nested `CanonicalEvent` shape of `/runs/:id/events`). */
export const ExportBundleSchema = Type.Object({
  run: ApiRunSchema,
  session: Type.Union([SessionSchema, Type.Null()]),
  projection: Type.Unknown({ description: "RunStateProjection" }),
  metrics: Type.Unknown({ description: "MetricsSummary" }),
  artifacts: Type.Array(Type.Unknown()),
  canonicalEvents: Type.Array(Type.Unknown({ description: "CanonicalEvent" })),
  rawEvents: Type.Array(Type.Unknown()),
  truncated: Type.Object({ canonicalEvents: Type.Boolean(), rawEvents: Type.Boolean() }),
  exportedAt: Type.String({ format: "date-time" }),
});

const ComparedRunSchema = Type.Object({
  runId: Type.String({ format: "uuid" }),
  status: Type.String(),
  modeName: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
  confidence: Type.Union([Type.Number(), Type.Null()]),
});

const REMOVED_MESSAGE: Readonly<Record<string, string>> = {
  messages: "POST /runs/:id/messages was removed: agents send their own messages with the MACP SDKs",
  signal: "POST /runs/:id/signal was removed: agents emit signals with the MACP SDKs",
  context: "POST /runs/:id/context was removed: agents send context updates with the MACP SDKs",
};

/** Export, compare, projection rebuild, and the removed message-injection routes (410). */
export const runInsightRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const read = { scope: "runs:read" } as const;
  const write = { scope: "runs:write" } as const;

  app.get(
    "/runs/:id/export",
    {
      config: read,
      schema: {
        tags: ["insights"],
        description: "Everything stored about a run. `format=jsonl` answers `application/x-ndjson`: a `header` line, then `{type: \"canonical_event\"|\"raw_event\", event}` per event.",
        params: RunIdParams,
        querystring: ExportQuery,
        response: { 200: ExportBundleSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { format, ...options } = request.query;
      const bundle = await exportRun(db, request.params.id, options);
      // A string body with a non-JSON type is sent as is (the 200 schema describes the JSON form).
      if (format === "jsonl") return reply.type("application/x-ndjson").send(toJsonLines(bundle) as never);
      return bundle;
    },
  );

  app.get(
    "/runs/:id/export/stream",
    {
      config: read,
      schema: {
        tags: ["insights"],
        description:
          "The whole run as chunked `application/x-ndjson`, read page by page (never buffered): a `header` line, `{type: \"canonical_event\"|\"raw_event\", event}` per event up to the run's last seq when the header was read, then `{type: \"end\", runId, lastSeq, canonicalEvents, rawEvents}`.",
        params: RunIdParams,
        querystring: Type.Object({ includeCanonical: Type.Boolean({ default: true }), includeRaw: Type.Boolean({ default: false }) }, { additionalProperties: false }),
        response: { 200: Type.String({ description: "JSON lines" }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      // Read before the first byte so an unknown run is a 404, not an empty 200.
      const header = await readExportHeader(db, request.params.id);
      const lines = Readable.from(exportLines(db, header, { ...request.query, pageSize: ctx.config.live.pageSize }));
      lines.on("error", (error) => request.log.warn({ err: error, runId: request.params.id }, "export stream failed"));
      return reply.type("application/x-ndjson").send(lines as never);
    },
  );

  app.post(
    "/runs/compare",
    {
      config: read,
      schema: {
        tags: ["insights"],
        body: Type.Object({ leftRunId: Type.String({ format: "uuid" }), rightRunId: Type.String({ format: "uuid" }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            left: ComparedRunSchema,
            right: ComparedRunSchema,
            statusMatch: Type.Boolean(),
            durationDeltaMs: Type.Union([Type.Number(), Type.Null()]),
            confidenceDelta: Type.Union([Type.Number(), Type.Null()]),
            participantsDiff: Type.Object({ added: Type.Array(Type.String()), removed: Type.Array(Type.String()), common: Type.Array(Type.String()) }),
            signalsDiff: Type.Object({ added: Type.Array(Type.String()), removed: Type.Array(Type.String()) }),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const load = async (runId: string): Promise<CompareInput> => {
        const run = await runRepository.get(db, runId);
        if (!run) throw HttpError.notFound("run", runId);
        const [state, metrics, session] = await Promise.all([
          eventStore.state(db, runId),
          eventStore.metrics(db, runId),
          db.selectFrom("runtime_sessions").select("mode_name").where("run_id", "=", runId).executeTakeFirst(),
        ]);
        return { run, state, metrics, modeName: session?.mode_name ?? null };
      };
      return compareRuns(await load(request.body.leftRunId), await load(request.body.rightRunId));
    },
  );

  app.post(
    "/runs/:id/projection/rebuild",
    {
      config: write,
      schema: {
        tags: ["insights"],
        description: "Refolds the run's projection and metrics from its stored canonical events.",
        params: RunIdParams,
        response: { 200: Type.Object({ rebuilt: Type.Boolean(), latestSeq: Type.Integer(), eventCount: Type.Integer() }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const result = await db.transaction().execute((trx) => eventStore.rebuild(trx, request.params.id));
      if (!result) throw HttpError.notFound("run", request.params.id);
      return { rebuilt: true, latestSeq: result.latestSeq, eventCount: result.eventCount };
    },
  );

  for (const removed of ["messages", "signal", "context"] as const) {
    app.post(
      `/runs/:id/${removed}`,
      { config: write, schema: { tags: ["runs"], deprecated: true, params: RunIdParams, response: errorResponses(410) } },
      async () => {
        throw new HttpError(410, "ENDPOINT_REMOVED", REMOVED_MESSAGE[removed] as string);
      },
    );
  }
};
