import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { RunIdParams, errorResponses } from "../http/schemas.js";
import { listRunMessages } from "../insights/run-messages.js";
import { runRepository } from "../runs/run-repository.js";

const NullableString = Type.Union([Type.String(), Type.Null()]);
const MessageSchema = Type.Object({
  seq: Type.Integer({ description: "the run's event seq of this envelope; the afterSeq cursor" }),
  runtimeSeq: Type.Union([Type.Integer(), Type.Null()], { description: "the runtime's acceptance sequence in the session" }),
  messageId: Type.String(),
  sessionId: Type.String(),
  sender: Type.String(),
  mode: Type.String(),
  messageType: Type.String(),
  macpVersion: Type.String(),
  timestamp: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "the envelope's own timestamp" }),
  receivedAt: Type.String({ format: "date-time" }),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: "decoded payload (camelCase protobuf fields), or {payloadBase64, decodeError?}" }),
  payloadTypeName: NullableString,
});

/** `GET /runs/:id/messages`: the envelopes the runtime accepted for the run's session. */
export const runMessageRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  app.get(
    "/runs/:id/messages",
    {
      config: { scope: "runs:read" },
      schema: {
        tags: ["run data"],
        description: "The envelopes the runtime accepted for the run's session, in acceptance order, with decoded payloads; page with `afterSeq` = the previous page's `nextCursor`.",
        params: RunIdParams,
        querystring: Type.Object(
          { afterSeq: Type.Integer({ minimum: 0, default: 0 }), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(MessageSchema), total: Type.Integer(), limit: Type.Integer(), nextCursor: NullableString }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const run = await runRepository.get(db, request.params.id);
      if (!run) throw HttpError.notFound("run", request.params.id);
      const session = await db.selectFrom("runtime_sessions").select("mode_name").where("run_id", "=", run.id).executeTakeFirst();
      return listRunMessages(db, run.id, session?.mode_name ?? "", request.query);
    },
  );
};
