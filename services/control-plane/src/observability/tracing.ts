import { SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import type { Span, SpanOptions, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

const TRACER = "@macp/control-plane";

/** The control plane's tracer (a no-op until a tracer provider is registered). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER);
}

/** True when the standard OpenTelemetry variables ask for traces to be exported over OTLP. */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER === "otlp");
}

/**
 * Registers a tracer provider exporting over OTLP/HTTP (the exporter reads the standard
 * `OTEL_EXPORTER_OTLP_*` variables) with the W3C trace-context propagator and an
 * AsyncLocalStorage context manager. Returns a flush-and-stop function for shutdown.
 */
export function startTracing(env: Readonly<Record<string, string | undefined>>): () => Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "macp-control-plane" }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return () => provider.shutdown();
}

/** Runs `work` in a child span of the active one (active while it runs), recording a thrown error on it. */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The trace and span ids of the active span, for log lines (empty when not tracing). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  return trace.isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/**
 * The trace id of the active span when that trace is sampled, else null: a run never stores the
 * all-zero id of a disabled tracer, nor the id of a trace no backend will have.
 */
export function sampledTraceId(): string | null {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return null;
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? spanContext.traceId : null;
}
