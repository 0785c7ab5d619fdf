import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { errorResponses } from "../http/schemas.js";
import { iso } from "../runs/run-record.js";

const AuditEntrySchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  actor: Type.String(),
  actorType: Type.String(),
  action: Type.String(),
  resource: Type.String(),
  resourceId: Type.Union([Type.String(), Type.Null()]),
  statusCode: Type.Integer(),
  details: Type.Record(Type.String(), Type.Unknown()),
  requestId: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});

/** `GET /audit`: the audit log, newest first. */
export const auditRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  app.get(
    "/audit",
    {
      config: { scope: "admin" },
      schema: {
        tags: ["audit"],
        description: "Every authenticated POST/PUT/PATCH/DELETE (also refused ones), newest first; filters are exact matches.",
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
            actor: Type.Optional(Type.String({ maxLength: 255 })),
            action: Type.Optional(Type.String({ maxLength: 128 })),
            resource: Type.Optional(Type.String({ maxLength: 64 })),
            resourceId: Type.Optional(Type.String({ maxLength: 255 })),
            createdAfter: Type.Optional(Type.String({ format: "date-time", description: "inclusive" })),
            createdBefore: Type.Optional(Type.String({ format: "date-time", description: "exclusive" })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(AuditEntrySchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, offset, actor, action, resource, resourceId, createdAfter, createdBefore } = request.query;
      let filtered = db.selectFrom("audit_log");
      if (actor !== undefined) filtered = filtered.where("actor", "=", actor);
      if (action !== undefined) filtered = filtered.where("action", "=", action);
      if (resource !== undefined) filtered = filtered.where("resource", "=", resource);
      if (resourceId !== undefined) filtered = filtered.where("resource_id", "=", resourceId);
      if (createdAfter !== undefined) filtered = filtered.where("created_at", ">=", new Date(createdAfter));
      if (createdBefore !== undefined) filtered = filtered.where("created_at", "<", new Date(createdBefore));
      const [rows, count] = await Promise.all([
        filtered.selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).offset(offset).execute(),
        filtered.select((eb) => eb.fn.countAll<string | number>().as("total")).executeTakeFirstOrThrow(),
      ]);
      return {
        data: rows.map((row) => ({
          id: row.id,
          actor: row.actor,
          actorType: row.actor_type,
          action: row.action,
          resource: row.resource,
          resourceId: row.resource_id,
          statusCode: row.status_code,
          details: row.details,
          requestId: row.request_id,
          createdAt: iso(row.created_at) as string,
        })),
        total: Number(count.total),
        limit,
        offset,
      };
    },
  );
};
