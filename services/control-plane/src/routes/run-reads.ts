import { randomUUID } from "node:crypto";
import { artifactCreatedEvent, CANONICAL_EVENT_TYPES, canonicalEventJsonSchema } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { sql } from "kysely";
import type { Kysely } from "kysely";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { eventStore, fromEventRow } from "@macp/pipeline";
import type { Database, RunRow } from "@macp/pipeline";
import { HttpError } from "../http/errors.js";
import { RunIdParams, errorResponses } from "../http/schemas.js";
import { runRepository } from "../runs/run-repository.js";
import { iso } from "../runs/run-record.js";

const EventSchema = Type.Unsafe<CanonicalEvent>(canonicalEventJsonSchema);
const EventPage = Type.Object({
  data: Type.Array(EventSchema),
  total: Type.Integer(),
  limit: Type.Integer(),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: "pass as afterSeq (per run) or cursor (cross-run) for the next page; null on the last page" }),
});
const TypeList = Type.String({ description: `comma-separated canonical types (${CANONICAL_EVENT_TYPES.length} known)`, maxLength: 2048 });
const Projection = Type.Unknown({ description: "RunStateProjection (control-plane.md §3.4)" });
const ArtifactSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  runId: Type.String({ format: "uuid" }),
  kind: Type.String(),
  label: Type.String(),
  uri: Type.Union([Type.String(), Type.Null()]),
  inline: Type.Unknown(),
  createdAt: Type.String({ format: "date-time" }),
});

function typesOf(list: string | undefined): string[] | undefined {
  const types = list
    ?.split(",")
    .map((type) => type.trim())
    .filter((type) => type !== "");
  return types && types.length > 0 ? types : undefined;
}

async function requireRun(db: Kysely<Database>, id: string): Promise<RunRow> {
  const run = await runRepository.get(db, id);
  if (!run) throw HttpError.notFound("run", id);
  return run;
}

/** Cross-run cursor: the (ts, runId, seq) of the last event of a page, opaque to clients. */
function encodeCursor(event: CanonicalEvent): string {
  return Buffer.from(JSON.stringify([event.ts, event.runId, event.seq])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string, number] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string" && Number.isInteger(value[2]) && !Number.isNaN(Date.parse(value[0]))) {
      return [value[0], value[1], value[2] as number];
    }
  } catch {
    // Reported below.
  }
  throw HttpError.validation([{ path: "querystring/cursor", message: "is not a cursor returned by this endpoint" }]);
}

/** Read models of a run (state, events, metrics, traces, artifacts) and the cross-run event feed. */
export const runReadRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const read = { scope: "runs:read" } as const;
  const write = { scope: "runs:write" } as const;

  app.get("/runs/:id/state", { config: read, schema: { tags: ["run data"], params: RunIdParams, response: { 200: Projection, ...errorResponses(400, 401, 403, 404) } } }, async (request) => {
    await requireRun(db, request.params.id);
    return eventStore.state(db, request.params.id);
  });

  app.get(
    "/runs/:id/events",
    {
      config: read,
      schema: {
        tags: ["run data"],
        params: RunIdParams,
        querystring: Type.Object(
          {
            afterSeq: Type.Integer({ minimum: 0, default: 0, description: "exclusive" }),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
            afterTs: Type.Optional(Type.String({ format: "date-time", description: "inclusive" })),
            beforeTs: Type.Optional(Type.String({ format: "date-time", description: "exclusive" })),
            type: Type.Optional(TypeList),
          },
          { additionalProperties: false },
        ),
        response: { 200: EventPage, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { afterSeq, limit, afterTs, beforeTs, type } = request.query;
      await requireRun(db, request.params.id);
      const types = typesOf(type);
      let filtered = db.selectFrom("run_events_canonical").where("run_id", "=", request.params.id);
      if (afterTs !== undefined) filtered = filtered.where("ts", ">=", new Date(afterTs));
      if (beforeTs !== undefined) filtered = filtered.where("ts", "<", new Date(beforeTs));
      if (types) filtered = filtered.where("type", "in", types);
      const [rows, count] = await Promise.all([
        filtered.selectAll().where("seq", ">", afterSeq).orderBy("seq").limit(limit).execute(),
        filtered.select((eb) => eb.fn.countAll<string | number>().as("total")).executeTakeFirstOrThrow(),
      ]);
      const data = rows.map(fromEventRow);
      const last = data.at(-1);
      return { data, total: Number(count.total), limit, nextCursor: data.length === limit && last ? String(last.seq) : null };
    },
  );

  app.get("/runs/:id/metrics", { config: read, schema: { tags: ["run data"], params: RunIdParams, response: { 200: Type.Unknown({ description: "MetricsSummary" }), ...errorResponses(400, 401, 403, 404) } } }, async (request) => {
    await requireRun(db, request.params.id);
    return eventStore.metrics(db, request.params.id);
  });

  app.get(
    "/runs/:id/traces",
    {
      config: read,
      schema: {
        tags: ["run data"],
        params: RunIdParams,
        response: {
          200: Type.Object({
            traceId: Type.Union([Type.String(), Type.Null()]),
            spanCount: Type.Integer(),
            lastSpanId: Type.Union([Type.String(), Type.Null()]),
            linkedArtifacts: Type.Array(Type.String()),
            runStatus: Type.String(),
            scenarioRef: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const run = await requireRun(db, request.params.id);
      const { trace } = await eventStore.state(db, run.id);
      const scenarioRef = run.metadata.scenarioRef;
      return {
        traceId: trace.traceId ?? run.trace_id,
        spanCount: trace.spanCount,
        lastSpanId: trace.lastSpanId ?? null,
        linkedArtifacts: [...trace.linkedArtifacts],
        runStatus: run.status,
        scenarioRef: typeof scenarioRef === "string" ? scenarioRef : null,
      };
    },
  );

  app.get("/runs/:id/artifacts", { config: read, schema: { tags: ["run data"], params: RunIdParams, response: { 200: Type.Array(ArtifactSchema), ...errorResponses(400, 401, 403, 404) } } }, async (request) => {
    await requireRun(db, request.params.id);
    const rows = await db.selectFrom("run_artifacts").selectAll().where("run_id", "=", request.params.id).orderBy("created_at").orderBy("id").execute();
    return rows.map((row) => ({ id: row.id, runId: row.run_id, kind: row.kind, label: row.label, uri: row.uri, inline: row.inline, createdAt: iso(row.created_at) as string }));
  });

  app.post(
    "/runs/:id/artifacts",
    {
      config: write,
      schema: {
        tags: ["run data"],
        params: RunIdParams,
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal("trace"), Type.Literal("json"), Type.Literal("report"), Type.Literal("log"), Type.Literal("bundle")]),
            label: Type.String({ minLength: 1, maxLength: 255 }),
            uri: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
            inline: Type.Optional(Type.Unknown()),
          },
          { additionalProperties: false },
        ),
        response: { 201: ArtifactSchema, ...errorResponses(400, 401, 403, 404, 413) },
      },
    },
    async (request, reply) => {
      const { kind, label, uri, inline } = request.body;
      const id = randomUUID();
      const runId = request.params.id;
      await requireRun(db, runId);
      // The projector stores the row with its artifact.created event, like every canonical event.
      const row = await ctx.control.apply(
        runId,
        {
          kind: "control",
          events: [{ rawKey: `artifact:${id}`, drafts: [artifactCreatedEvent({ ts: new Date().toISOString(), artifactId: id, kind, label, ...(uri ? { uri } : {}) })] }],
          artifact: { id, run_id: runId, kind, label, uri: uri ?? null, inline: inline === undefined ? null : JSON.stringify(inline) },
        },
        async () => {
          const row = await db.selectFrom("run_artifacts").selectAll().where("id", "=", id).executeTakeFirst();
          if (row === undefined) await requireRun(db, runId);
          return row;
        },
      );
      return reply.status(201).send({ id: row.id, runId: row.run_id, kind: row.kind, label: row.label, uri: row.uri, inline: row.inline, createdAt: iso(row.created_at) as string });
    },
  );

  app.get(
    "/events",
    {
      config: read,
      schema: {
        tags: ["run data"],
        description: "Canonical events across runs, ordered by (ts, runId, seq); page with the returned cursor.",
        querystring: Type.Object(
          {
            runId: Type.Optional(Type.String({ format: "uuid" })),
            scenarioRef: Type.Optional(Type.String({ maxLength: 255 })),
            type: Type.Optional(TypeList),
            afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: "exclusive; above 0 only with runId" })),
            afterTs: Type.Optional(Type.String({ format: "date-time" })),
            beforeTs: Type.Optional(Type.String({ format: "date-time" })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: EventPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { runId, scenarioRef, type, afterSeq, afterTs, beforeTs, cursor, limit } = request.query;
      // The UI sends afterSeq=0 ("from the start") with or without a runId; a later seq only means something within one run.
      if (afterSeq !== undefined && afterSeq > 0 && runId === undefined) throw HttpError.validation([{ path: "querystring/afterSeq", message: "needs runId (seq is per run); use cursor across runs" }]);
      const types = typesOf(type);
      let filtered = db.selectFrom("run_events_canonical as e");
      if (runId !== undefined) filtered = filtered.where("e.run_id", "=", runId);
      if (afterSeq !== undefined) filtered = filtered.where("e.seq", ">", afterSeq);
      if (types) filtered = filtered.where("e.type", "in", types);
      if (afterTs !== undefined) filtered = filtered.where("e.ts", ">=", new Date(afterTs));
      if (beforeTs !== undefined) filtered = filtered.where("e.ts", "<", new Date(beforeTs));
      if (scenarioRef !== undefined) {
        filtered = filtered.where("e.run_id", "in", (eb) =>
          eb.selectFrom("runs").select("runs.id").where((inner) => inner.or([inner("runs.source_ref", "=", scenarioRef), inner(sql<string>`runs.metadata->>'scenarioRef'`, "=", scenarioRef)])),
        );
      }
      let page = filtered;
      if (cursor !== undefined) {
        const [ts, cursorRun, seq] = decodeCursor(cursor);
        page = page.where(sql<boolean>`(e.ts, e.run_id, e.seq) > (${new Date(ts)}::timestamptz, ${cursorRun}::uuid, ${seq})`);
      }
      const [rows, count] = await Promise.all([
        page.selectAll("e").orderBy("e.ts").orderBy("e.run_id").orderBy("e.seq").limit(limit).execute(),
        filtered.select((eb) => eb.fn.countAll<string | number>().as("total")).executeTakeFirstOrThrow(),
      ]);
      const data = rows.map(fromEventRow);
      const last = data.at(-1);
      return { data, total: Number(count.total), limit, nextCursor: data.length === limit && last ? encodeCursor(last) : null };
    },
  );
};
