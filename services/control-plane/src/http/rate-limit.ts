import rateLimit from "@fastify/rate-limit";
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ControlPlaneConfig } from "../config/config.js";
import type { Database } from "@macp/pipeline";
import { HttpError } from "./errors.js";

/** A principal's standing in its current window. */
export interface RateLimitHit {
  /** Requests counted in the window, this one included. */
  readonly current: number;
  /** Milliseconds until the window ends. */
  readonly ttl: number;
}

/**
 * Counts `count` requests of `key` in the fixed window of `windowMs` that contains the database's
 * current time, in one upsert: every instance on the database shares the count, and the
 * database clock aligns their windows. A row from an older window restarts at `count`.
 */
export async function countRequest(db: Kysely<Database>, key: string, windowMs: number, count = 1): Promise<RateLimitHit> {
  const now = sql`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;
  const result = await sql<{ hits: number; ttl: number }>`
    insert into rate_limit_counters as c (key, window_start_ms, hits)
    values (${key}, (${now} / ${windowMs}) * ${windowMs}, ${count})
    on conflict (key) do update set
      hits = case when c.window_start_ms = excluded.window_start_ms then c.hits + ${count} else ${count} end,
      window_start_ms = excluded.window_start_ms
    returning hits, (window_start_ms + ${windowMs} - ${now})::float8 as ttl`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error("rate-limit upsert returned no row");
  return { current: Number(row.hits), ttl: Math.max(0, Number(row.ttl)) };
}

type CountCallback = (error: Error | null, result?: RateLimitHit) => void;

/**
 * Group counting: one upsert per key in flight at a time; requests of that key arriving meanwhile
 * are counted together by the next one. Each request still gets its own exact place in the shared
 * count (the upsert returns the total, so the i-th of n gets `total - n + 1 + i`), but a burst of
 * one principal's requests no longer queues on that one row's lock, one commit after another.
 */
function groupCounter(db: Kysely<Database>) {
  const waiting = new Map<string, { key: string; windowMs: number; callbacks: CountCallback[] }>();
  const inFlight = new Set<string>();
  const flush = (group: string): void => {
    const pending = waiting.get(group);
    if (pending === undefined) return;
    waiting.delete(group);
    inFlight.add(group);
    const { callbacks } = pending;
    countRequest(db, pending.key, pending.windowMs, callbacks.length)
      .then(
        (hit) => callbacks.forEach((callback, index) => callback(null, { current: hit.current - callbacks.length + 1 + index, ttl: hit.ttl })),
        (error: unknown) => callbacks.forEach((callback) => callback(error instanceof Error ? error : new Error(String(error)))),
      )
      .finally(() => {
        inFlight.delete(group);
        flush(group);
      });
  };
  return (key: string, windowMs: number, callback: CountCallback): void => {
    const group = `${windowMs}:${key}`;
    const pending = waiting.get(group);
    if (pending === undefined) waiting.set(group, { key, windowMs, callbacks: [callback] });
    else pending.callbacks.push(callback);
    if (!inFlight.has(group)) flush(group);
  };
}

/** A @fastify/rate-limit store over {@link countRequest}. */
function databaseStore(db: Kysely<Database>, logger: Logger): FastifyRateLimitStoreCtor {
  const count = groupCounter(db);
  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: RateLimitHit) => void, timeWindow: number): void {
      count(key, timeWindow, (error, hit) => {
        if (error) {
          // Failing open: a database that cannot count fails the request's own queries anyway.
          logger.warn({ err: error, key }, "rate-limit counter unavailable; request not counted");
          callback(error);
        } else callback(null, hit);
      });
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/**
 * Per-principal rate limits (`THROTTLE_LIMIT` per `THROTTLE_TTL_MS`, or the API key's own
 * limit) counted in the database; public routes and docs are never limited. Over the limit:
 * 429 `RATE_LIMITED` with `Retry-After`.
 */
export async function registerRateLimit(app: FastifyInstance, config: ControlPlaneConfig, db: Kysely<Database>, logger: Logger): Promise<void> {
  await app.register(rateLimit, {
    hook: "preHandler",
    store: databaseStore(db, logger),
    skipOnError: true,
    max: (request) => request.principal?.rateLimit ?? config.auth.rateLimit,
    timeWindow: config.auth.rateWindowMs,
    keyGenerator: (request) => `principal:${request.principal?.id ?? request.ip}`,
    allowList: (request) => request.routeOptions.config.public === true || (request.routeOptions.url ?? "").startsWith("/docs"),
    errorResponseBuilder: (_request, context) => new HttpError(429, "RATE_LIMITED", `rate limit of ${context.max} requests per ${context.after} exceeded`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) }),
  });
}
