import { MacpError } from "@macp/protocol";
import { ConfigError } from "../config-error.js";
import { readCredentials, type MetadataInput } from "./credentials.js";
import { devResolver } from "./dev-resolver.js";
import type { Identity } from "./identity.js";
import type { JwkSet } from "./jwks.js";
import { jwtResolver } from "./jwt-resolver.js";
import type { Clock } from "@macp/core";
import { inlineKeySource, remoteKeySource, type KeySource } from "./key-source.js";
import type { RejectionListener, Resolver } from "./resolver.js";
import { staticTokenResolver } from "./static-resolver.js";
import type { StaticTokenTable } from "./static-tokens.js";

/** Where JWT verification keys come from. */
export type JwksSource =
  | { readonly kind: "inline"; readonly keys: JwkSet }
  | { readonly kind: "url"; readonly url: URL; readonly ttlSecs: number };

/** JWT validation settings (`MACP_AUTH_ISSUER`, `MACP_AUTH_AUDIENCE`, `MACP_AUTH_JWKS_*`). */
export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JwksSource;
}

/** The authentication part of the runtime configuration. Neither `jwt` nor `staticTokens` ⇒ dev mode. */
export interface AuthConfig {
  readonly jwt: JwtSettings | null;
  readonly staticTokens: StaticTokenTable | null;
  /** `MACP_ALLOW_DEV_SENDER_HEADER=1`; only ever set together with dev mode. */
  readonly allowDevSenderHeader: boolean;
}

/** Injection points of {@link createAuthenticator}; production uses the defaults. */
export interface AuthenticatorOptions {
  /** Wall clock in Unix ms for token lifetimes and the JWKS cache; default `Date.now`. */
  readonly clock?: Clock;
  /** Used to download a JWKS URL; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** JWKS download timeout; default 10 s. */
  readonly jwksTimeoutMs?: number;
  /** Told why a credential was refused (for debug logs); never given credential values. */
  readonly onRejected?: RejectionListener;
}

/** Resolves request metadata to an identity. */
export interface Authenticator {
  /** True when no JWT or static token resolver is configured and the dev fallback is active. */
  readonly devMode: boolean;
  /** The caller's identity; rejects with `MacpError("Unauthenticated")`. */
  authenticate(metadata: MetadataInput): Promise<Identity>;
  /**
   * Settles once inline JWKS keys are imported; rejects naming `MACP_AUTH_JWKS_JSON` if one cannot
   * be. Await it at startup so a bad key fails the boot rather than every request.
   */
  ready(): Promise<void>;
}

const DEFAULT_JWKS_TIMEOUT_MS = 10_000;

/**
 * Builds the resolver chain of protocol.md §5.1 from `config.auth`: JWT, then static tokens,
 * and the dev fallback only when neither is configured. Exhausting the chain is Unauthenticated.
 */
export function createAuthenticator(config: AuthConfig, options: AuthenticatorOptions = {}): Authenticator {
  const clock = options.clock ?? { now: Date.now };
  const onRejected = options.onRejected ?? (() => undefined);
  const chain: Resolver[] = [];
  let ready: Promise<void> = Promise.resolve();

  if (config.jwt !== null) {
    const keys = keySourceFor(config.jwt.jwks, clock, options);
    if (config.jwt.jwks.kind === "inline") {
      ready = keys.keys().then(
        () => undefined,
        (error: unknown) => {
          throw new ConfigError(`MACP_AUTH_JWKS_JSON ${error instanceof Error ? error.message : String(error)}`);
        },
      );
      // Callers that never ask still must not see an unhandled rejection.
      ready.catch(() => undefined);
    }
    chain.push(jwtResolver({ issuer: config.jwt.issuer, audience: config.jwt.audience, keys, clock, onRejected }));
  }
  if (config.staticTokens !== null) chain.push(staticTokenResolver(config.staticTokens, onRejected));
  const devMode = chain.length === 0;
  if (devMode) chain.push(devResolver(config.allowDevSenderHeader));

  return {
    devMode,
    async authenticate(metadata) {
      const credentials = readCredentials(metadata);
      for (const resolver of chain) {
        const identity = await resolver.resolve(credentials);
        if (identity !== undefined) return identity;
      }
      onRejected("no credential any resolver accepts");
      throw new MacpError("Unauthenticated");
    },
    ready: () => ready,
  };
}

function keySourceFor(jwks: JwksSource, clock: Clock, options: AuthenticatorOptions): KeySource {
  if (jwks.kind === "inline") return inlineKeySource(jwks.keys);
  return remoteKeySource({
    url: jwks.url,
    ttlMs: jwks.ttlSecs * 1000,
    clock,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
  });
}
