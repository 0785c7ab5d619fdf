import websocket from "@fastify/websocket";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { RunIdParams, errorResponses } from "../http/schemas.js";
import { runRepository } from "../runs/run-repository.js";
import { databaseEventPages } from "../streaming/event-pages.js";
import type { FrameSink } from "../streaming/frame-sink.js";
import { LiveFeed } from "../streaming/live-feed.js";
import { STREAM_TOKEN_COOKIE, addStreamAuth, lastEventId, principalOf, streamAccess } from "../streaming/stream-access.js";
import { mintStreamToken } from "../streaming/stream-token.js";
import { sseSink, webSocketSink } from "../streaming/transports.js";

const StreamQuery = Type.Object({
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: "send events with seq > afterSeq; 0 = from the beginning. Last-Event-ID wins over it." })),
  includeSnapshot: Type.Boolean({ default: true, description: "send one `snapshot` frame first" }),
  heartbeatMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 3_600_000 })),
  token: Type.Optional(Type.String({ maxLength: 1024, description: "stream token from POST /runs/:id/stream-token (for EventSource/WebSocket)" })),
});

/** First client message of a WebSocket opened without `afterSeq`, and later requests. */
interface ClientMessage {
  type?: unknown;
  afterSeq?: unknown;
  includeSnapshot?: unknown;
}

const SUBSCRIBE_DEADLINE_MS = 10_000;

/** Live run streams: SSE `GET /runs/:id/stream`, WebSocket `GET /runs/:id/ws`, and stream tokens. */
export const runStreamRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { db } = ctx.database;
  const { live } = ctx.config;
  const { registry } = streamAccess(ctx);
  const pages = databaseEventPages(db);
  const deps = { hub: ctx.hub, pages, pageSize: live.pageSize, maxBufferedBytes: live.maxBufferedBytes, maxPendingEvents: live.maxPendingEvents, logger: ctx.logger };
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  addStreamAuth(app, ctx);
  app.addHook("preClose", async () => registry.shutdown());

  const streamConfig = { public: true, streamAuth: true, scope: "runs:read" } as const;

  /** Opens a feed on `sink` for an admitted connection. */
  const openFeed = async (request: FastifyRequest, sink: FrameSink, runId: string, status: string, afterSeq: number, includeSnapshot: boolean, heartbeatMs: number, release: () => void): Promise<LiveFeed> => {
    const feed = new LiveFeed(deps, sink, { runId, afterSeq, includeSnapshot, heartbeatMs, status });
    const untrack = registry.track(feed);
    sink.onClose(() => {
      untrack();
      release();
    });
    request.log.debug({ run_id: runId, after_seq: afterSeq }, "live stream opened");
    await feed.start();
    return feed;
  };

  const requireRun = async (id: string) => {
    const run = await runRepository.get(db, id);
    if (!run) throw HttpError.notFound("run", id);
    return run;
  };

  app.post(
    "/runs/:id/stream-token",
    {
      config: { scope: "runs:read" },
      schema: {
        tags: ["streams"],
        description: "A short-lived token for EventSource/WebSocket clients, which cannot send Authorization: pass it as `token` or rely on the HttpOnly cookie this sets.",
        params: RunIdParams,
        response: {
          201: Type.Object({ token: Type.String(), expiresAt: Type.String({ format: "date-time" }), streamUrl: Type.String(), wsUrl: Type.String(), replayStreamUrl: Type.String() }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const run = await requireRun(request.params.id);
      const principal = principalOf(request);
      const expiresAt = Date.now() + live.tokenTtlMs;
      const token = mintStreamToken(live.tokenSecret, { runId: run.id, principalId: principal.id, principalKind: principal.kind, expiresAt });
      const query = `token=${encodeURIComponent(token)}`;
      reply.header("set-cookie", `${STREAM_TOKEN_COOKIE}=${token}; Path=/runs/${run.id}/; Max-Age=${Math.floor(live.tokenTtlMs / 1000)}; HttpOnly; SameSite=Strict${ctx.config.development ? "" : "; Secure"}`);
      reply.header("cache-control", "no-store");
      return reply.status(201).send({
        token,
        expiresAt: new Date(expiresAt).toISOString(),
        streamUrl: `/runs/${run.id}/stream?${query}`,
        wsUrl: `/runs/${run.id}/ws?${query}`,
        replayStreamUrl: `/runs/${run.id}/replay/stream?${query}`,
      });
    },
  );

  app.get(
    "/runs/:id/stream",
    {
      config: streamConfig,
      // The URL may carry a stream token: keep it out of the info-level request log.
      logLevel: "warn",
      schema: {
        tags: ["streams"],
        description:
          "Server-sent events: `snapshot` (once, first), `canonical_event` (id = seq), `heartbeat`, then `run_terminal` and close when the run ends; `stream_closed` when the server closes first. Resume with Last-Event-ID.",
        params: RunIdParams,
        querystring: StreamQuery,
        response: { 200: Type.String({ description: "text/event-stream" }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const run = await requireRun(request.params.id);
      const release = registry.admit(principalOf(request).id);
      const { afterSeq, includeSnapshot, heartbeatMs } = request.query;
      let sink: FrameSink;
      try {
        sink = sseSink(request, reply);
      } catch (error) {
        release();
        throw error;
      }
      await openFeed(request, sink, run.id, run.status, lastEventId(request) ?? afterSeq ?? 0, includeSnapshot, heartbeatMs ?? live.heartbeatMs, release);
    },
  );

  app.get(
    "/runs/:id/ws",
    {
      websocket: true,
      config: streamConfig,
      logLevel: "warn",
      schema: {
        tags: ["streams"],
        description:
          'The live stream\'s frames as WebSocket JSON messages `{event, id?, data}`. Without `afterSeq` the first client message must be `{"type":"subscribe","afterSeq":N,"includeSnapshot":true}`; later `{"type":"snapshot"}` asks for a fresh snapshot.',
        params: RunIdParams,
        querystring: StreamQuery,
      },
      preValidation: async (request) => {
        await requireRun((request.params as { id: string }).id);
      },
    },
    (socket, request) => {
      const { id } = request.params as { id: string };
      const query = request.query as { afterSeq?: number; includeSnapshot: boolean; heartbeatMs?: number };
      let release: () => void;
      try {
        release = registry.admit(principalOf(request).id);
      } catch (error) {
        socket.close(1013, error instanceof Error ? error.message.slice(0, 120) : "refused");
        return;
      }
      const sink = webSocketSink(socket);
      let feed: LiveFeed | undefined;
      let released = false;
      const releaseOnce = (): void => {
        if (released) return;
        released = true;
        release();
      };
      const start = async (afterSeq: number, includeSnapshot: boolean): Promise<void> => {
        const run = await runRepository.get(db, id);
        if (!run) return sink.end();
        feed = await openFeed(request, sink, id, run.status, afterSeq, includeSnapshot, query.heartbeatMs ?? live.heartbeatMs, releaseOnce);
      };
      const fail = (error: unknown): void => {
        request.log.warn({ err: error, run_id: id }, "websocket stream failed");
        sink.end();
      };
      const initial = lastEventId(request) ?? query.afterSeq;
      let deadline: NodeJS.Timeout | undefined;
      if (initial !== undefined) start(initial, query.includeSnapshot).catch(fail);
      else {
        deadline = setTimeout(() => socket.close(1008, 'send {"type":"subscribe","afterSeq":N} first'), SUBSCRIBE_DEADLINE_MS);
        deadline.unref();
      }
      sink.onClose(() => {
        if (deadline) clearTimeout(deadline);
        releaseOnce();
      });
      socket.on("message", (data: Buffer) => {
        let message: ClientMessage;
        try {
          message = JSON.parse(data.toString("utf8")) as ClientMessage;
        } catch {
          socket.close(1007, "messages must be JSON");
          return;
        }
        if (message.type === "subscribe" && feed === undefined && deadline !== undefined) {
          const afterSeq = message.afterSeq ?? 0;
          if (typeof afterSeq !== "number" || !Number.isSafeInteger(afterSeq) || afterSeq < 0) {
            socket.close(1008, "afterSeq must be an integer >= 0");
            return;
          }
          clearTimeout(deadline);
          deadline = undefined;
          start(afterSeq, message.includeSnapshot !== false).catch(fail);
        } else if (message.type === "snapshot" && feed !== undefined) {
          pages.state(id).then((state) => sink.send({ event: "snapshot", data: state }), fail);
        } else {
          socket.close(1008, `unexpected message type ${JSON.stringify(message.type)?.slice(0, 40)}`);
        }
      });
    },
  );
};
