import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { RunIdParams, errorResponses } from "../http/schemas.js";
import { replay } from "../replay/replay-feed.js";
import type { ReplayMode } from "../replay/replay-feed.js";
import { stateAt } from "../replay/state-at.js";
import { runRepository } from "../runs/run-repository.js";
import { databaseEventPages } from "../streaming/event-pages.js";
import { addStreamAuth, lastEventId, principalOf, streamAccess } from "../streaming/stream-access.js";
import { sseSink } from "../streaming/transports.js";

const Mode = Type.Union([Type.Literal("instant"), Type.Literal("timed"), Type.Literal("step")], { default: "timed" });
const Speed = Type.Number({ minimum: 0.1, maximum: 1000, default: 1, description: "timed: original spacing ÷ speed" });
const Seq = (description: string) => Type.Integer({ minimum: 1, description });
const Projection = Type.Unknown({ description: "RunStateProjection (control-plane.md §3.4)" });

/** Replay of stored runs: descriptor, SSE replay stream (instant | timed | step) and state at any seq. */
export const runReplayRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const { live } = ctx.config;
  const { registry } = streamAccess(ctx);
  const pages = databaseEventPages(db);
  addStreamAuth(app, ctx);

  const requireRun = async (id: string) => {
    const run = await runRepository.get(db, id);
    if (!run) throw HttpError.notFound("run", id);
    return run;
  };

  app.post(
    "/runs/:id/replay",
    {
      config: { scope: "runs:read" },
      schema: {
        tags: ["replay"],
        description: "Describes a replay; `streamUrl` carries the whole range (toSeq defaults to the run's last seq now). Stores nothing.",
        params: RunIdParams,
        body: Type.Object(
          { mode: Type.Optional(Mode), speed: Type.Optional(Speed), fromSeq: Type.Optional(Seq("first seq replayed (inclusive)")), toSeq: Type.Optional(Seq("last seq replayed (inclusive)")) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            runId: Type.String({ format: "uuid" }),
            mode: Mode,
            speed: Type.Number(),
            fromSeq: Type.Integer(),
            toSeq: Type.Integer(),
            streamUrl: Type.String(),
            stateUrl: Type.String(),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const run = await requireRun(request.params.id);
      const { mode = "timed", speed = 1, fromSeq = 1 } = request.body ?? {};
      const toSeq = request.body?.toSeq ?? Math.max(run.last_event_seq, fromSeq);
      if (fromSeq > toSeq) throw HttpError.validation([{ path: "body/toSeq", message: `must be >= fromSeq (${fromSeq})` }]);
      const query = new URLSearchParams({ mode, speed: String(speed), fromSeq: String(fromSeq), toSeq: String(toSeq) });
      return reply.status(201).send({ runId: run.id, mode, speed, fromSeq, toSeq, streamUrl: `/runs/${run.id}/replay/stream?${query.toString()}`, stateUrl: `/runs/${run.id}/replay/state` });
    },
  );

  app.get(
    "/runs/:id/replay/stream",
    {
      config: { public: true, streamAuth: true, scope: "runs:read" },
      logLevel: "warn",
      schema: {
        tags: ["replay"],
        description:
          "Server-sent `canonical_event` frames (id = seq) of the stored range, then `replay_end`. `step` sends `count` events and `replay_pause {cursor, done}`, then closes: reconnect with Last-Event-ID (or afterSeq) for the next step.",
        params: RunIdParams,
        querystring: Type.Object({
          mode: Mode,
          speed: Speed,
          fromSeq: Type.Integer({ minimum: 1, default: 1 }),
          toSeq: Type.Optional(Seq("inclusive; defaults to the run's last seq")),
          afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: "resume cursor; Last-Event-ID wins over it" })),
          count: Type.Integer({ minimum: 1, maximum: 10_000, default: 1, description: "step: events per request" }),
          token: Type.Optional(Type.String({ maxLength: 1024 })),
        }),
        response: { 200: Type.String({ description: "text/event-stream" }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const run = await requireRun(request.params.id);
      const { mode, speed, fromSeq, toSeq, afterSeq, count } = request.query;
      const cursor = Math.max(fromSeq - 1, lastEventId(request) ?? afterSeq ?? 0);
      const release = registry.admit(principalOf(request).id);
      const abort = new AbortController();
      const sink = sseSink(request, reply);
      const untrack = registry.track({
        shutdown() {
          sink.send({ event: "stream_closed", data: { reason: "shutdown", lastSeq: cursor } });
          abort.abort();
          sink.end();
        },
      });
      sink.onClose(() => {
        abort.abort();
        untrack();
        release();
      });
      try {
        await replay(pages, { pageSize: live.pageSize, maxDelayMs: live.replayMaxDelayMs }, sink, { runId: run.id, mode: mode as ReplayMode, speed, afterSeq: cursor, toSeq: toSeq ?? run.last_event_seq, count }, abort.signal);
      } catch (error) {
        request.log.warn({ err: error, run_id: run.id }, "replay stream failed; the client resumes from its last id");
        sink.end();
      }
    },
  );

  app.get(
    "/runs/:id/replay/state",
    {
      config: { scope: "runs:read" },
      schema: {
        tags: ["replay"],
        description: "The projection folded from the empty one over the events with seq <= `seq` (all when absent).",
        params: RunIdParams,
        querystring: Type.Object({ seq: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
        response: { 200: Projection, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const run = await requireRun(request.params.id);
      return stateAt(pages, run.id, request.query.seq, Math.max(live.pageSize, 1000));
    },
  );
};
