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
  bus: Type.Object(
    {
      kind: Type.Union([Type.Literal("memory"), Type.Literal("nats")]),
      ok: Type.Boolean(),
      connection: Type.Union([Type.Literal("in-process"), Type.Literal("connected"), Type.Literal("unreachable"), Type.Literal("closed")]),
      streams: Type.Record(Type.String(), Type.Boolean(), { description: "each JetStream stream the bus declared: does it exist" }),
    },
    { description: "the event bus; not ok (NATS unreachable or a stream missing) makes the instance unready" },
  ),
  projector: Type.Object(
    {
      mode: Type.Union([Type.Literal("embedded"), Type.Literal("workers")], { description: "embedded: this process projects (in-memory bus); workers: projection workers do (JetStream)" }),
      ok: Type.Boolean(),
      partitions: Type.Integer(),
      partitionsHeld: Type.Integer({ description: "raw partitions this process projects now" }),
    },
    { description: "embedded mode: unready until this process projects every partition" },
  ),
});

/** How long /readyz waits for the bus to answer. */
const BUS_PROBE_TIMEOUT_MS = 2_000;

/** Liveness, readiness and Prometheus metrics; public and never rate-limited. */
export const healthRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const open = { public: true, rateLimit: false } as const;
  app.get(
    "/healthz",
    { config: open, schema: { tags: ["ops"], security: [], response: { 200: Type.Object({ ok: Type.Boolean(), service: Type.String() }) } } },
    async () => ({ ok: true, service: "macp-control-plane" }),
  );
  app.get("/readyz", { config: open, schema: { tags: ["ops"], security: [], response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const { bus: eventBus, projection } = ctx.pipeline;
    const [database, runtime, bus] = await Promise.all([
      ctx.database.ping().then(
        () => "ok" as const,
        () => "unhealthy" as const,
      ),
      ctx.runtime.probe(),
      eventBus.status(BUS_PROBE_TIMEOUT_MS),
    ]);
    const held = projection ? projection.partitions.length : 0;
    const projector = { mode: projection ? ("embedded" as const) : ("workers" as const), ok: projection ? held === eventBus.partitions : true, partitions: eventBus.partitions, partitionsHeld: held };
    const streamConsumer = ctx.driver.healthy ? ("ok" as const) : ("unhealthy" as const);
    // Read after the probe: a probe may have been the breaker's trial call.
    const circuitBreaker = ctx.runtime.breaker.state;
    const ok = database === "ok" && runtime.ok && streamConsumer === "ok" && circuitBreaker !== "OPEN" && bus.ok && projector.ok;
    return reply.status(ok ? 200 : 503).send({ ok, database, runtime, streamConsumer, circuitBreaker, bus, projector });
  });
  app.get("/metrics", { config: open, schema: { tags: ["ops"], security: [], hide: true } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
};
