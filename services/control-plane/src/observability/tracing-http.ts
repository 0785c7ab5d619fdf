import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from "@opentelemetry/api";
import type { Context, Span } from "@opentelemetry/api";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { tracer } from "./tracing.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's server span and the context it is active in. */
    otel: { readonly span: Span; readonly context: Context; ended: boolean } | undefined;
  }
}

/**
 * A server span per HTTP request, named `<METHOD> <route>`, continuing an incoming W3C
 * `traceparent`. The span is made active for the hooks and the handler (entered again after the
 * body is read, since body events run outside the request's async context), and the request's
 * logger carries its `trace_id`. Register before any other hook.
 */
export function registerHttpTracing(app: FastifyInstance): void {
  app.decorateRequest("otel", undefined);
  app.addHook("onRequest", (request, reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      `${request.method} ${route ?? "unmatched"}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": request.method, "url.path": request.url.split("?")[0] ?? "/", "macp.request_id": request.id, ...(route !== undefined ? { "http.route": route } : {}) },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    request.otel = { span, context: active, ended: false };
    const spanContext = span.spanContext();
    if (trace.isSpanContextValid(spanContext)) {
      const log = request.log.child({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
      request.log = log;
      reply.log = log;
    }
    context.with(active, done);
  });
  app.addHook("preValidation", (request, _reply, done) => {
    if (request.otel) context.with(request.otel.context, done);
    else done();
  });
  app.addHook("onError", (request, _reply, error, done) => {
    request.otel?.span.recordException(error);
    done();
  });
  const end = (request: FastifyRequest, statusCode: number | undefined): void => {
    const otel = request.otel;
    if (!otel || otel.ended) return;
    otel.ended = true;
    if (statusCode === undefined) otel.span.setAttribute("macp.client_aborted", true);
    else otel.span.setAttribute("http.response.status_code", statusCode);
    if (statusCode !== undefined && statusCode >= 500) otel.span.setStatus({ code: SpanStatusCode.ERROR });
    otel.span.end();
  };
  app.addHook("onResponse", (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    end(request, undefined);
    done();
  });
}
