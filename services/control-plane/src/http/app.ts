import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify from "fastify";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { ControlPlaneContext } from "../context.js";
import { auditHook } from "../audit/audit-hook.js";
import { auditRoutes } from "../routes/audit.js";
import { dashboardRoutes } from "../routes/dashboard.js";
import { healthRoutes } from "../routes/health.js";
import { runBatchRoutes } from "../routes/run-batch.js";
import { runForkRoutes } from "../routes/run-fork.js";
import { runInsightRoutes } from "../routes/run-insights.js";
import { runMessageRoutes } from "../routes/run-messages.js";
import { runReplayRoutes } from "../routes/run-replay.js";
import { runStreamRoutes } from "../routes/run-streams.js";
import { runReadRoutes } from "../routes/run-reads.js";
import { runRoutes } from "../routes/runs.js";
import { runtimeRoutes } from "../routes/runtime.js";
import { webhookRoutes } from "../routes/webhooks.js";
import { adminRoutes } from "../routes/admin.js";
import { viewerRoutes } from "../routes/viewer.js";
import { createAuthenticator, hasScope } from "./auth.js";
import { HttpError, errorHandler } from "./errors.js";
import { registerRateLimit } from "./rate-limit.js";
import { registerHttpTracing } from "../observability/tracing-http.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The Fastify application with every route area registered; not yet listening. */
export async function buildApp(ctx: ControlPlaneContext): Promise<FastifyInstance> {
  const { config, metrics } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Unknown keys are refused (additionalProperties: false), never silently stripped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: true } },
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First, so that every later hook and the handler run inside the request's span.
  registerHttpTracing(app);
  app.decorateRequest("principal", undefined);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => errorHandler(new HttpError(404, "ROUTE_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`), request, reply));

  await app.register(cors, { origin: config.corsOrigin.split(",").map((origin) => origin.trim()), credentials: true, exposedHeaders: ["x-request-id", "idempotent-replayed"] });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "MACP Control Plane", version: "0.1.0", description: "Runs, canonical events, projections and metrics of MACP sessions." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/docs-json", { schema: { hide: true }, config: { public: true } }, () => app.swagger());

  const authenticator = createAuthenticator(config);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    const route = request.routeOptions;
    if (route.url === undefined || route.config.public === true || route.url.startsWith("/docs")) return;
    request.principal = await authenticator.authenticate(request);
  });
  await registerRateLimit(app, config, ctx.database.db, ctx.logger);
  app.addHook("preHandler", async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope !== undefined && request.principal !== undefined && !hasScope(request.principal, scope)) {
      throw new HttpError(403, "FORBIDDEN", `this call needs the ${scope} scope`);
    }
  });
  app.addHook("onSend", auditHook(ctx.database.db));
  app.addHook("onResponse", async (request, reply) => {
    const labels = { method: request.method, path: request.routeOptions.url ?? "unmatched", status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(healthRoutes, { ctx });
  // Literal /runs/batch/* paths before the /runs/:id/* ones.
  await app.register(runBatchRoutes, { ctx });
  await app.register(runRoutes, { ctx });
  await app.register(runReadRoutes, { ctx });
  await app.register(runStreamRoutes, { ctx });
  await app.register(runReplayRoutes, { ctx });
  await app.register(runForkRoutes, { ctx });
  await app.register(runInsightRoutes, { ctx });
  await app.register(runMessageRoutes, { ctx });
  await app.register(runtimeRoutes, { ctx });
  await app.register(auditRoutes, { ctx });
  await app.register(dashboardRoutes, { ctx });
  await app.register(webhookRoutes, { ctx });
  await app.register(adminRoutes, { ctx });
  await app.register(viewerRoutes, { ctx });
  return app;
}
