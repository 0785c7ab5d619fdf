import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";

const Readiness = Type.Object({
  ok: Type.Boolean(),
  database: Type.Union([Type.Literal("ok"), Type.Literal("unhealthy")]),
  runtime: Type.Object({
    ok: Type.Boolean(),
    runtimeKind: Type.String(),
    detail: Type.String(),
    manifest: Type.Optional(Type.Object({ agentId: Type.String(), supportedModes: Type.Array(Type.String()) })),
  }),
  streamConsumer: Type.Union([Type.Literal("ok"), Type.Literal("unhealthy")]),
  circuitBreaker: Type.Union([Type.Literal("CLOSED"), Type.Literal("OPEN"), Type.Literal("HALF_OPEN")], { description: "the runtime circuit breaker; OPEN makes the instance unready" }),
});

/** Liveness, readiness and Prometheus metrics; public and never rate-limited. */
export const healthRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const open = { public: true, rateLimit: false } as const;
  app.get(
    "/healthz",
    { config: open, schema: { tags: ["ops"], security: [], response: { 200: Type.Object({ ok: Type.Boolean(), service: Type.String() }) } } },
    async () => ({ ok: true, service: "macp-control-plane" }),
  );
  app.get("/readyz", { config: open, schema: { tags: ["ops"], security: [], response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const [database, runtime] = await Promise.all([
      ctx.database.ping().then(
        () => "ok" as const,
        () => "unhealthy" as const,
      ),
      ctx.runtime.probe(),
    ]);
    const streamConsumer = ctx.driver.healthy ? ("ok" as const) : ("unhealthy" as const);
    // Read after the probe: a probe may have been the breaker's trial call.
    const circuitBreaker = ctx.runtime.breaker.state;
    const ok = database === "ok" && runtime.ok && streamConsumer === "ok" && circuitBreaker !== "OPEN";
    return reply.status(ok ? 200 : 503).send({ ok, database, runtime, streamConsumer, circuitBreaker });
  });
  app.get("/metrics", { config: open, schema: { tags: ["ops"], security: [], hide: true } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
};
