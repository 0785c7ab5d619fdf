import { InterceptingCall } from "@grpc/grpc-js";
import type { Interceptor, Metadata } from "@grpc/grpc-js";
import { context, propagation } from "@opentelemetry/api";
import type { TextMapSetter } from "@opentelemetry/api";

const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

/**
 * A grpc-js client interceptor that writes the active trace context (W3C `traceparent`,
 * `tracestate`) into the metadata of every call it starts, unary or streaming, so the runtime's
 * server spans continue the control plane's trace. A no-op while no propagator is registered.
 */
export const traceContextInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      propagation.inject(context.active(), metadata, metadataSetter);
      next(metadata, listener);
    },
  });
