import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ControlPlaneContext } from "../context.js";
import { createAuthenticator } from "../http/auth.js";
import type { Authenticator, Principal } from "../http/auth.js";
import { HttpError } from "../http/errors.js";
import { StreamRegistry } from "./stream-registry.js";
import { verifyStreamToken } from "./stream-token.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Accepts a stream token (query `token` or cookie) besides `Authorization`; set with `public: true`. */
    streamAuth?: boolean;
  }
}

/** Name of the cookie `POST /runs/:id/stream-token` sets. */
export const STREAM_TOKEN_COOKIE = "macp_stream_token";

/** What the streaming routes of one control plane share. */
export interface StreamAccess {
  readonly registry: StreamRegistry;
  readonly authenticator: Authenticator;
}

const shared = new WeakMap<ControlPlaneContext, StreamAccess>();

/** The registry and authenticator of `ctx`, created on first use. */
export function streamAccess(ctx: ControlPlaneContext): StreamAccess {
  let access = shared.get(ctx);
  if (!access) {
    access = { registry: new StreamRegistry(ctx.config.live.maxStreamsPerPrincipal), authenticator: createAuthenticator(ctx.config) };
    shared.set(ctx, access);
  }
  return access;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/**
 * Authentication of stream routes (marked `public` so the app-wide hook lets them through, and
 * `streamAuth`): a stream token for this run from the `token` query parameter or the cookie, else
 * the usual `Authorization` header. The scope check of the app still applies.
 */
export function addStreamAuth(app: FastifyInstance, ctx: ControlPlaneContext): void {
  const { authenticator } = streamAccess(ctx);
  app.addHook("onRequest", async (request: FastifyRequest) => {
    if (request.routeOptions.config.streamAuth !== true) return;
    const query = request.query as { token?: unknown };
    const token = typeof query.token === "string" ? query.token : cookie(request.headers.cookie, STREAM_TOKEN_COOKIE);
    if (token === undefined || request.headers.authorization !== undefined) {
      request.principal = await authenticator.authenticate(request);
      return;
    }
    const grant = verifyStreamToken(ctx.config.live.tokenSecret, token, Date.now());
    const runId = (request.params as { id?: string }).id;
    if (!grant || grant.runId !== runId) throw new HttpError(401, "UNAUTHENTICATED", "invalid or expired stream token");
    const principal: Principal = { id: grant.principalId, kind: grant.principalKind, scopes: ["runs:read"], rateLimit: ctx.config.auth.rateLimit };
    request.principal = principal;
  });
}

/** The principal a stream counts against. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, "UNAUTHENTICATED", "missing credentials");
  return request.principal;
}

/** `Last-Event-ID` when it is a seq (it wins over a possibly stale query cursor, R-7). */
export function lastEventId(request: FastifyRequest): number | undefined {
  const header = request.headers["last-event-id"];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}
