import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { rawEventFromJson } from "@macp/events";
import type { Envelope } from "@macp/protocol";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { forkRequest } from "../fork/fork-request.js";
import { HttpError } from "../http/errors.js";
import { RunIdParams, errorResponses } from "../http/schemas.js";
import { requestOf } from "../runs/run-driver.js";
import { runRepository } from "../runs/run-repository.js";
import { principalOf } from "../streaming/stream-access.js";

/** `POST /runs/:id/fork`: a new run that replays the original's accepted messages up to a seq on the runtime, then lives on. */
export const runForkRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;

  app.post(
    "/runs/:id/fork",
    {
      config: { scope: "runs:write" },
      schema: {
        tags: ["replay"],
        description:
          "Starts a NEW session with the original SessionStart and re-sends, in runtime order, every envelope the runtime accepted for the original up to `atSeq`, each with the control plane's credential for its sender. The new run then continues live.",
        params: RunIdParams,
        body: Type.Object(
          {
            atSeq: Type.Integer({ minimum: 1, description: "fork point: envelopes whose raw event seq is <= atSeq are re-sent" }),
            tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: "replaces the tags (default: original tags + fork)" })),
            ttlMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            runId: Type.String({ format: "uuid" }),
            sessionId: Type.Union([Type.String(), Type.Null()]),
            status: Type.String(),
            traceId: Type.Union([Type.String(), Type.Null()]),
            forkOf: Type.Object({ runId: Type.String({ format: "uuid" }), atSeq: Type.Integer() }),
            messages: Type.Integer({ description: "envelopes the new run sends (SessionStart included)" }),
          }),
          ...errorResponses(400, 401, 403, 404, 409, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const { atSeq, tags, ttlMs } = request.body;
      const original = await runRepository.get(db, request.params.id);
      if (!original) throw HttpError.notFound("run", request.params.id);
      if (atSeq > original.last_event_seq) throw HttpError.validation([{ path: "body/atSeq", message: `run ${original.id} has no seq beyond ${original.last_event_seq}` }]);
      const rows = await db
        .selectFrom("run_events_raw")
        .select("payload")
        .where("run_id", "=", original.id)
        .where("kind", "=", "stream-envelope")
        .where("seq", "<=", atSeq)
        .orderBy("runtime_seq")
        .execute();
      const envelopes: Envelope[] = [];
      for (const row of rows) {
        const raw = rawEventFromJson(row.payload);
        if (raw.kind === "stream-envelope") envelopes.push(raw.envelope);
      }
      const plan = forkRequest(requestOf(original), original.id, envelopes, { atSeq, ...(tags ? { tags } : {}), ...(ttlMs ? { ttlMs } : {}) }, (sender) => ctx.runtime.senderAuth(sender) !== undefined);
      if (!plan.ok) throw new HttpError(422, "FORK_NOT_POSSIBLE", plan.issues.map((issue) => issue.message).join("; "), { issues: plan.issues });
      const { run } = await ctx.runs.create(principalOf(request), plan.request);
      return reply.status(201).send({ ...run, forkOf: { runId: original.id, atSeq }, messages: plan.messages });
    },
  );
};
