import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { MacpError } from "@macp/protocol";
import { toStatusError } from "./error-edge.js";
import { requestLimitError } from "./request-limits.js";

const UNDECODABLE = Symbol("undecodable");

interface Undecodable {
  readonly [UNDECODABLE]: string;
}

/** Why a request message could not be decoded, or undefined for a decoded request. */
export function undecodableReason(request: unknown): string | undefined {
  return typeof request === "object" && request !== null && UNDECODABLE in request
    ? (request as Undecodable)[UNDECODABLE]
    : undefined;
}

/**
 * A copy of a service definition whose request deserializers never throw. grpc-js answers a
 * throwing deserializer with INTERNAL; this lets the handlers answer INVALID_ARGUMENT instead
 * (e.g. for garbage bytes or an int64 the codec cannot represent).
 */
export function tolerantDefinition<T extends ServiceDefinition>(definition: T): T {
  const tolerant: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          const reason: Undecodable = { [UNDECODABLE]: error instanceof Error ? error.message : String(error) };
          return reason;
        }
      },
    };
  }
  return tolerant as T;
}

/** The error every undecodable request gets. */
export function undecodableError(reason: string): MacpError {
  return new MacpError("InvalidRequest", `INVALID_REQUEST: request could not be decoded: ${reason}`);
}

type AnyHandler = (call: { request?: unknown; emit(event: "error", error: unknown): boolean }, callback?: (error: unknown) => void) => void;

/**
 * Wraps the handlers of single-request methods so an undecodable request, or one carrying an
 * identifier over its limit, is answered with INVALID_ARGUMENT before the handler runs.
 * Client-streaming methods check each frame themselves.
 */
export function guardRequests<I extends UntypedServiceImplementation>(definition: ServiceDefinition, implementation: I): I {
  const guarded: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(implementation)) {
    if (definition[name]?.requestStream) {
      guarded[name] = handler;
      continue;
    }
    const original = handler as unknown as AnyHandler;
    const wrapped: AnyHandler = (call, callback) => {
      const reason = undecodableReason(call.request);
      const refused = reason === undefined ? requestLimitError(name, call.request) : undecodableError(reason);
      if (refused === undefined) return original(call, callback);
      const error = toStatusError(refused);
      if (callback) callback(error);
      else call.emit("error", error);
    };
    guarded[name] = wrapped;
  }
  return guarded as I;
}
