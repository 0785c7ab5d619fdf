import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from "jose";
import type { JWTVerifyGetKey, JSONWebKeySet } from "jose";
import { SCOPES, hashApiKey } from "../config/config.js";
import type { ApiKeyEntry, ControlPlaneConfig, Scope } from "../config/config.js";
import { HttpError } from "./errors.js";

/** Who is calling: the unit of idempotency, ownership, rate limits and audit. */
export interface Principal {
  readonly id: string;
  readonly kind: "api-key" | "jwt" | "dev";
  readonly scopes: readonly Scope[];
  /** Requests per rate-limit window for this principal. */
  readonly rateLimit: number;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Reachable without credentials (probes, metrics, docs). */
    public?: boolean;
    /** Scope a caller needs; `admin` satisfies every scope. */
    scope?: Scope;
  }
}

/** Resolves the principal of a request from its `Authorization` header. */
export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<Principal>;
}

/** Builds the authenticator the configuration asks for: API keys, JWT, or development mode. */
export function createAuthenticator(config: ControlPlaneConfig): Authenticator {
  const { apiKeys, jwt, rateLimit } = config.auth;
  const open = apiKeys.length === 0 && jwt === undefined;
  let keySet: JWTVerifyGetKey | undefined;
  if (jwt?.jwksJson) keySet = createLocalJWKSet(jwt.jwksJson as unknown as JSONWebKeySet);
  else if (jwt?.jwksUrl) keySet = createRemoteJWKSet(new URL(jwt.jwksUrl));

  return {
    async authenticate(request) {
      const credential = credentialOf(request.headers.authorization);
      if (credential === undefined) {
        if (open) return { id: "dev", kind: "dev", scopes: ["admin"], rateLimit };
        throw new HttpError(401, "UNAUTHENTICATED", "missing Authorization header");
      }
      if (open) return { id: "dev", kind: "dev", scopes: ["admin"], rateLimit };
      if (jwt && keySet && credential.split(".").length === 3) {
        try {
          const { payload } = await jwtVerify(credential, keySet, { issuer: jwt.issuer, audience: jwt.audience, clockTolerance: 60 });
          if (typeof payload.sub !== "string" || payload.sub === "") throw new Error("no sub");
          return { id: `jwt:${payload.sub}`, kind: "jwt", scopes: scopesOf(payload.scope ?? payload.scp), rateLimit };
        } catch {
          throw new HttpError(401, "UNAUTHENTICATED", "invalid bearer token");
        }
      }
      const entry = findKey(apiKeys, credential);
      if (!entry) throw new HttpError(401, "UNAUTHENTICATED", "invalid API key");
      return { id: entry.id, kind: "api-key", scopes: entry.scopes, rateLimit: entry.rateLimit ?? rateLimit };
    },
  };
}

/** True when `principal` holds `scope` (`admin` holds them all). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes("admin") || principal.scopes.includes(scope);
}

function credentialOf(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return (match?.[1] ?? header).trim();
}

function findKey(keys: readonly ApiKeyEntry[], credential: string): ApiKeyEntry | undefined {
  const digest = hashApiKey(credential);
  let found: ApiKeyEntry | undefined;
  // Compare against every entry so timing does not reveal which key matched.
  for (const key of keys) if (timingSafeEqual(key.sha256, digest)) found ??= key;
  return found;
}

function scopesOf(claim: unknown): Scope[] {
  const list = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return list.filter((scope): scope is Scope => SCOPES.includes(scope as Scope));
}
