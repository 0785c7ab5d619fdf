import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { ApiRunSchema, RunIdParams, RunStatusSchema, errorResponses } from "../http/schemas.js";
import { RunRequestSchema } from "../runs/request-schema.js";
import { runRepository } from "../runs/run-repository.js";
import { toApiRun } from "../runs/run-record.js";

const ListQuery = Type.Object(
  {
    status: Type.Optional(RunStatusSchema),
    tags: Type.Optional(Type.String({ description: "comma-separated; a run must carry all of them" })),
    createdAfter: Type.Optional(Type.String({ format: "date-time" })),
    createdBefore: Type.Optional(Type.String({ format: "date-time" })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
    sortBy: Type.Union([Type.Literal("createdAt"), Type.Literal("updatedAt")], { default: "createdAt" }),
    sortOrder: Type.Union([Type.Literal("asc"), Type.Literal("desc")], { default: "desc" }),
    includeArchived: Type.Boolean({ default: false }),
    includeSandbox: Type.Boolean({ default: false }),
    environment: Type.Optional(Type.String({ maxLength: 255 })),
    scenarioRef: Type.Optional(Type.String({ maxLength: 255 })),
    search: Type.Optional(Type.String({ maxLength: 255 })),
    modeName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "the session's mode, e.g. macp.mode.decision.v1 (exact)" })),
  },
  { additionalProperties: false },
);

const CreatedRunSchema = Type.Object({
  runId: Type.String({ format: "uuid" }),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  status: RunStatusSchema,
  traceId: Type.Union([Type.String(), Type.Null()]),
});

const ValidationSchema = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(Type.String()),
  issues: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
  warnings: Type.Array(Type.String()),
  runtime: Type.Object({ reachable: Type.Boolean(), supportedModes: Type.Array(Type.String()), capabilities: Type.Record(Type.String(), Type.Unknown()) }),
});

const ReasonBody = Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }));

/** Runs: create (launch or observe), validate, list, read, control, clone, archive, delete. */
export const runRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const read = { scope: "runs:read" } as const;
  const write = { scope: "runs:write" } as const;

  // Literal paths first; find-my-way prefers static segments anyway.
  app.post(
    "/runs/validate",
    { config: write, schema: { tags: ["runs"], body: RunRequestSchema, response: { 200: ValidationSchema, ...errorResponses(400, 401, 403) } } },
    async (request) => ctx.runs.validate(request.body),
  );

  app.post(
    "/runs",
    {
      config: write,
      schema: {
        tags: ["runs"],
        description:
          "Creates a run. With `kickoff` or `session.initiatorParticipantId` the control plane starts the session (as the initiator, with that sender's own runtime credential) and sends the kickoff; otherwise it waits for the agents to start `session.sessionId` and observes. `execution.idempotencyKey` is scoped to the caller: the same key and body return the original run (200, header `Idempotent-Replayed: true`); a different body is 409.",
        body: RunRequestSchema,
        response: { 200: CreatedRunSchema, 201: CreatedRunSchema, ...errorResponses(400, 401, 403, 409, 413, 503) },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) throw new HttpError(401, "UNAUTHENTICATED", "no principal");
      const { run, replayed } = await ctx.runs.create(principal, request.body);
      if (replayed) reply.header("idempotent-replayed", "true");
      return reply.status(replayed ? 200 : 201).send(run);
    },
  );

  app.get(
    "/runs",
    {
      config: read,
      schema: {
        tags: ["runs"],
        querystring: ListQuery,
        response: { 200: Type.Object({ data: Type.Array(ApiRunSchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { tags, ...query } = request.query;
      const tagList = tags
        ?.split(",")
        .map((tag) => tag.trim())
        .filter((tag) => tag !== "");
      const { rows, total } = await runRepository.list(db, { ...query, ...(tagList ? { tags: tagList } : {}) });
      return { data: rows.map(toApiRun), total, limit: query.limit, offset: query.offset };
    },
  );

  app.get(
    "/runs/:id",
    { config: read, schema: { tags: ["runs"], params: RunIdParams, response: { 200: ApiRunSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => {
      const { id } = request.params;
      const run = await ctx.runCache.get(id, async () => {
        const row = await runRepository.get(db, id);
        return row ? toApiRun(row) : undefined;
      });
      if (!run) throw HttpError.notFound("run", id);
      return run;
    },
  );

  for (const [action, target] of [
    ["cancel", "cancel"],
    ["suspend", "suspend"],
    ["resume", "resume"],
  ] as const) {
    app.post(
      `/runs/:id/${action}`,
      {
        config: write,
        schema: { tags: ["runs"], params: RunIdParams, body: ReasonBody, response: { 200: ApiRunSchema, ...errorResponses(400, 401, 403, 404, 409, 503) } },
      },
      async (request) => toApiRun(await ctx.runs[target](request.params.id, request.body?.reason)),
    );
  }

  app.post(
    "/runs/:id/clone",
    {
      config: write,
      schema: {
        tags: ["runs"],
        params: RunIdParams,
        body: Type.Optional(
          Type.Object({ tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64 })), context: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
        ),
        response: { 201: CreatedRunSchema, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) throw new HttpError(401, "UNAUTHENTICATED", "no principal");
      return reply.status(201).send(await ctx.runs.clone(principal, request.params.id, request.body ?? {}));
    },
  );

  app.post(
    "/runs/:id/archive",
    { config: write, schema: { tags: ["runs"], params: RunIdParams, response: { 200: ApiRunSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => toApiRun(await ctx.runs.archive(request.params.id)),
  );

  app.delete(
    "/runs/:id",
    { config: write, schema: { tags: ["runs"], params: RunIdParams, response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) } } },
    async (request, reply) => {
      await ctx.runs.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
