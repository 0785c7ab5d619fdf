import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import type { Metadata, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

const TRACER = "@macp/runtime";

/** True when the standard OpenTelemetry variables ask for traces to be exported over OTLP. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER === "otlp");
}

/**
 * Registers a tracer provider exporting over OTLP/HTTP (the exporter reads the standard
 * `OTEL_EXPORTER_OTLP_*` variables) with the W3C trace-context propagator. Without it every span
 * call below is a no-op. Returns a flush-and-stop function for shutdown.
 */
export function startTracing(env: NodeJS.ProcessEnv): () => Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "macp-runtime" }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return () => provider.shutdown();
}

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).map(String);
    return values.length === 0 ? undefined : values;
  },
};

/** Runs `work` in a child span of the active one, recording a thrown error on it. */
export function inSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

type AnyHandler = (call: { metadata: Metadata; once(event: string, listener: () => void): unknown }, callback?: (error: unknown, ...rest: unknown[]) => void) => void;

/**
 * Wraps every handler in a server span named `<service>/<method>`, continuing the caller's W3C
 * `traceparent` from the call metadata, active while the handler runs, ended when the call ends.
 */
export function traceRequests<I extends UntypedServiceImplementation>(serviceName: string, definition: ServiceDefinition, implementation: I): I {
  const traced: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(implementation)) {
    const method = definition[name]?.path.split("/").pop() ?? name;
    const original = handler as unknown as AnyHandler;
    const wrapped: AnyHandler = (call, callback) => {
      const parent = propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
      const span = trace.getTracer(TRACER).startSpan(
        `${serviceName}/${method}`,
        { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": serviceName, "rpc.method": method } },
        parent,
      );
      const active = trace.setSpan(parent, span);
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        span.end();
      };
      if (callback) {
        context.with(active, () =>
          original(call, (error, ...rest) => {
            if (error) recordStatusError(span, error);
            end();
            callback(error, ...rest);
          }),
        );
        return;
      }
      for (const event of ["finish", "close", "cancelled", "error"]) call.once(event, end);
      context.with(active, () => original(call));
    };
    traced[name] = wrapped;
  }
  return traced as I;
}

function recordStatusError(span: Span, error: unknown): void {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") span.setAttribute("rpc.grpc.status_code", code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The trace and span ids of the active span, for log lines (empty when not tracing). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : {};
}
