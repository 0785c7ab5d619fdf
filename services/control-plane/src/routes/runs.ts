import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { ApiRunSchema, RunIdParams, RunStatusSchema, errorResponses } from "../http/schemas.js";
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
  },
  { additionalProperties: false },
);

/** Run records: list, read, archive, delete. */
export const runRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const read = { scope: "runs:read" } as const;
  const write = { scope: "runs:write" } as const;

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
      const row = await runRepository.get(db, request.params.id);
      if (!row) throw HttpError.notFound("run", request.params.id);
      return toApiRun(row);
    },
  );

  app.post(
    "/runs/:id/archive",
    { config: write, schema: { tags: ["runs"], params: RunIdParams, response: { 200: ApiRunSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request) => {
      const existing = await runRepository.get(db, request.params.id);
      if (!existing) throw HttpError.notFound("run", request.params.id);
      if (existing.archived_at !== null) return toApiRun(existing);
      const tags = existing.tags.includes("archived") ? existing.tags : [...existing.tags, "archived"];
      const row = await runRepository.update(db, existing.id, { archived_at: new Date(), tags: JSON.stringify(tags) });
      if (!row) throw HttpError.notFound("run", request.params.id);
      return toApiRun(row);
    },
  );

  app.delete(
    "/runs/:id",
    { config: write, schema: { tags: ["runs"], params: RunIdParams, response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) } } },
    async (request, reply) => {
      const existing = await runRepository.get(db, request.params.id);
      if (!existing) throw HttpError.notFound("run", request.params.id);
      if (!["completed", "failed", "cancelled"].includes(existing.status)) {
        throw new HttpError(409, "RUN_NOT_TERMINAL", `run ${existing.id} is ${existing.status}; only finished runs can be deleted (cancel it first)`);
      }
      await runRepository.delete(db, existing.id);
      return reply.status(204).send(null);
    },
  );
};
