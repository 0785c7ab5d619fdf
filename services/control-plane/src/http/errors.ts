import { MacpClientError } from "@macp/client";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { CircuitOpenError } from "../runtime/circuit-breaker.js";

/** One problem found in a request, with the JSON pointer of the offending field. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** The body of every non-2xx response. */
export interface ErrorBody {
  statusCode: number;
  errorCode: string;
  message: string;
  details?: unknown;
  requestId: string;
}

/** An error the HTTP edge turns into `{statusCode, errorCode, message, details?, requestId}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }

  static validation(issues: readonly FieldIssue[], message = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")): HttpError {
    return new HttpError(400, "VALIDATION_ERROR", message, { issues });
  }

  static notFound(what: string, id: string): HttpError {
    return new HttpError(404, `${what.toUpperCase()}_NOT_FOUND`, `${what} ${id} not found`);
  }
}

// gRPC status code → HTTP status and error code, in one place (control-plane.md §2.5, [B]'s table).
const GRPC_TO_HTTP: Readonly<Record<number, readonly [number, string]>> = {
  1: [503, "RUNTIME_CANCELLED"],
  3: [400, "VALIDATION_ERROR"],
  4: [504, "RUNTIME_TIMEOUT"],
  5: [404, "NOT_FOUND"],
  6: [409, "CONFLICT"],
  7: [403, "FORBIDDEN"],
  8: [429, "RATE_LIMITED"],
  9: [409, "CONFLICT"],
  10: [409, "CONFLICT"],
  11: [400, "VALIDATION_ERROR"],
  12: [501, "NOT_IMPLEMENTED"],
  14: [503, "RUNTIME_UNAVAILABLE"],
  // The control plane's own runtime credential was refused: not the HTTP caller's fault.
  16: [502, "RUNTIME_UNAUTHENTICATED"],
};

/** Maps a failed runtime call to an {@link HttpError}; the MACP code, when stated, is kept in details. */
export function fromRuntimeError(error: MacpClientError): HttpError {
  if (error instanceof CircuitOpenError) {
    return new HttpError(503, "CIRCUIT_BREAKER_OPEN", `the runtime circuit breaker is open: ${error.details}`, error.retryAt !== undefined ? { retryAt: error.retryAt } : undefined);
  }
  const [statusCode, errorCode] = GRPC_TO_HTTP[error.grpcCode] ?? [502, "RUNTIME_ERROR"];
  return new HttpError(statusCode, errorCode, `runtime: ${error.details}`, {
    grpcCode: error.grpcCode,
    ...(error.macpCode !== undefined ? { macpCode: error.macpCode } : {}),
    ...(error.reasons !== undefined ? { reasons: error.reasons } : {}),
  });
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

function validationIssues(error: FastifyError): FieldIssue[] {
  const context = (error as { validationContext?: string }).validationContext ?? "body";
  return ((error.validation ?? []) as AjvIssue[]).map((issue) => {
    let path = issue.instancePath ?? "";
    if (issue.keyword === "required" && typeof issue.params?.missingProperty === "string") path += `/${issue.params.missingProperty}`;
    if (issue.keyword === "additionalProperties" && typeof issue.params?.additionalProperty === "string") {
      path += `/${issue.params.additionalProperty}`;
      return { path: `${context}${path}`, message: "is not allowed" };
    }
    return { path: `${context}${path}`, message: issue.message ?? "is invalid" };
  });
}

/** Turns anything thrown by a route or by Fastify into the error body; never a 500 for bad input. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof MacpClientError) return fromRuntimeError(error);
  const fastify = error as FastifyError;
  if (fastify?.validation) return HttpError.validation(validationIssues(fastify));
  switch (fastify?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HttpError(413, "PAYLOAD_TOO_LARGE", "request body is larger than the limit");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new HttpError(400, "VALIDATION_ERROR", "the JSON body is empty");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new HttpError(400, "INVALID_JSON", "the body is not valid JSON");
    default:
      break;
  }
  if (error instanceof SyntaxError && typeof fastify.statusCode === "number" && fastify.statusCode === 400) {
    return new HttpError(400, "INVALID_JSON", "the body is not valid JSON");
  }
  const status = typeof fastify?.statusCode === "number" ? fastify.statusCode : 500;
  if (status >= 400 && status < 500) return new HttpError(status, fastify.code ?? "BAD_REQUEST", fastify.message);
  return new HttpError(500, "INTERNAL_ERROR", "internal error");
}

/** Fastify error handler: logs server faults and writes the error body. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const http = toHttpError(error);
  if (http.statusCode >= 500) request.log.error({ err: error }, "request failed");
  const body: ErrorBody = {
    statusCode: http.statusCode,
    errorCode: http.errorCode,
    message: http.message,
    ...(http.details !== undefined ? { details: http.details } : {}),
    requestId: request.id,
  };
  return reply.status(http.statusCode).type("application/json").send(body);
}
