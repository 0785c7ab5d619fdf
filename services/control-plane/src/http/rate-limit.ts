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

/** How long requests admitted without waiting may stay uncounted in the shared row. */
const BACKGROUND_FLUSH_MS = 100;
/** Below this share of its budget a principal's requests do not wait for the shared count. */
const FAST_PATH_SHARE = 0.5;

interface Group {
  readonly key: string;
  readonly windowMs: number;
  /** Requests waiting for their exact place in the shared count. */
  waiting: CountCallback[];
  /** Admitted without waiting, not yet sent to the database. */
  unsent: number;
  /** Admitted without waiting and in the upsert now in flight. */
  sending: number;
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The shared count as of the last upsert, and when (local clock) its window ends. */
  known: { current: number; windowEndsAt: number } | undefined;
}

/**
 * Group counting: one upsert per key in flight at a time; requests of that key arriving meanwhile
 * are counted together by the next one, each at its own exact place in the shared count (the
 * upsert returns the total, so the i-th of n waiting gets `total - n + 1 + i`). Far from the
 * limit (under half of the budget by the last shared count plus this instance's requests since)
 * a request does not wait at all: it is admitted at once and counted in the shared row within
 * {@link BACKGROUND_FLUSH_MS}. Near the limit every request waits for its exact count, so the
 * shared budget holds across instances as before; only requests far below it skip the round trip.
 */
function groupCounter(db: Kysely<Database>) {
  const groups = new Map<string, Group>();
  const flush = (group: Group): void => {
    if (group.inFlight) return;
    clearTimeout(group.timer);
    group.timer = undefined;
    const callbacks = group.waiting;
    const background = group.unsent;
    if (callbacks.length === 0 && background === 0) return;
    group.waiting = [];
    group.unsent = 0;
    group.sending = background;
    group.inFlight = true;
    countRequest(db, group.key, group.windowMs, background + callbacks.length)
      .then(
        (hit) => {
          group.known = { current: hit.current, windowEndsAt: Date.now() + hit.ttl };
          callbacks.forEach((callback, index) => callback(null, { current: hit.current - callbacks.length + 1 + index, ttl: hit.ttl }));
        },
        (error: unknown) => {
          group.known = undefined;
          callbacks.forEach((callback) => callback(error instanceof Error ? error : new Error(String(error))));
        },
      )
      .finally(() => {
        group.inFlight = false;
        group.sending = 0;
        if (group.waiting.length > 0) flush(group);
        else schedule(group);
      });
  };
  const schedule = (group: Group): void => {
    if (group.unsent === 0 || group.inFlight || group.timer !== undefined) return;
    group.timer = setTimeout(() => flush(group), BACKGROUND_FLUSH_MS);
    group.timer.unref();
  };
  return (key: string, windowMs: number, max: number, callback: CountCallback): void => {
    const id = `${windowMs}:${key}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = { key, windowMs, waiting: [], unsent: 0, sending: 0, inFlight: false, timer: undefined, known: undefined };
      groups.set(id, group);
    }
    const known = group.known;
    const now = Date.now();
    if (known !== undefined && group.waiting.length === 0 && now + BACKGROUND_FLUSH_MS < known.windowEndsAt) {
      const current = known.current + group.sending + group.unsent + 1;
      if (current <= max * FAST_PATH_SHARE) {
        group.unsent += 1;
        schedule(group);
        callback(null, { current, ttl: known.windowEndsAt - now });
        return;
      }
    }
    group.waiting.push(callback);
    flush(group);
  };
}

/** A @fastify/rate-limit store over {@link countRequest}. */
function databaseStore(db: Kysely<Database>, logger: Logger): FastifyRateLimitStoreCtor {
  const count = groupCounter(db);
  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: RateLimitHit) => void, timeWindow: number, max: number): void {
      count(key, timeWindow, max, (error, hit) => {
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
