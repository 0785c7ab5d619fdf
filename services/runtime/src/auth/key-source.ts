import type { Clock } from "@macp/core";
import { parseJwks, type JwkSet, type VerificationKeys } from "./jwks.js";

/** Where the JWT resolver gets its verification keys; rejects when no keys are available right now. */
export interface KeySource {
  keys(): Promise<VerificationKeys>;
}


/** Keys from `MACP_AUTH_JWKS_JSON`: imported once, never expire. */
export function inlineKeySource(set: JwkSet): KeySource {
  const imported = set.importKeys();
  // Keep an import failure from surfacing as an unhandled rejection before the first request asks.
  imported.catch(() => undefined);
  return { keys: () => imported };
}

/** Options of {@link remoteKeySource}. */
export interface RemoteKeySourceOptions {
  readonly url: URL;
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  /** Abort a JWKS download after this long. */
  readonly timeoutMs: number;
}

/**
 * Keys from `MACP_AUTH_JWKS_URL` (protocol.md §5.1): fetched lazily on first use, cached for the
 * TTL, refetched after. A failed fetch is not cached, so the next request retries; concurrent
 * requests share one download so an unavailable issuer sees one request at a time, not a storm.
 */
export function remoteKeySource(options: RemoteKeySourceOptions): KeySource {
  let cached: { keys: VerificationKeys; expiresAt: number } | undefined;
  let inFlight: Promise<VerificationKeys> | undefined;

  async function download(): Promise<VerificationKeys> {
    const startedAt = options.clock.now();
    const response = await options.fetch(options.url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!response.ok) throw new Error(`JWKS download failed with HTTP ${response.status}`);
    const keys = await parseJwks(await response.text()).set.importKeys();
    cached = { keys, expiresAt: startedAt + options.ttlMs };
    return keys;
  }

  return {
    keys() {
      if (cached !== undefined && options.clock.now() < cached.expiresAt) return Promise.resolve(cached.keys);
      inFlight ??= download().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
