import { randomBytes } from "node:crypto";

/** Live stream, stream token and replay settings (README "Streaming, replay and fork"). */
export interface LiveConfig {
  /** Interval of `heartbeat` frames (STREAM_HEARTBEAT_MS). */
  readonly heartbeatMs: number;
  /** Bytes a client may leave unread before it is dropped (it resumes with Last-Event-ID). */
  readonly maxBufferedBytes: number;
  /** Live events held while a connection backfills; beyond it the backfill re-reads the store. */
  readonly maxPendingEvents: number;
  /** Concurrent streams per principal. */
  readonly maxStreamsPerPrincipal: number;
  /** HMAC key of stream tokens; random per process unless STREAM_TOKEN_SECRET is set. */
  readonly tokenSecret: Buffer;
  readonly tokenSecretConfigured: boolean;
  readonly tokenTtlMs: number;
  /** Longest pause between two events of a `timed` replay. */
  readonly replayMaxDelayMs: number;
  /** Events per page read from the store (backfill, replay, state folds). */
  readonly pageSize: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the streaming settings; `fail` reports an invalid variable by name (config.ts throws ConfigError). */
export function loadLiveConfig(env: Env, fail: (message: string) => never): LiveConfig {
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) fail(`${name} must be an integer in ${min}..${max} (got "${raw}")`);
    return Number(raw);
  };
  const secret = env.STREAM_TOKEN_SECRET?.trim();
  if (secret !== undefined && secret !== "" && secret.length < 32) fail("STREAM_TOKEN_SECRET must be at least 32 characters");
  const configured = secret !== undefined && secret !== "";
  return {
    heartbeatMs: int("STREAM_HEARTBEAT_MS", 15_000, 10, 3_600_000),
    maxBufferedBytes: int("STREAM_MAX_BUFFERED_BYTES", 4 * 1024 * 1024, 1024),
    maxPendingEvents: int("STREAM_MAX_PENDING_EVENTS", 10_000, 1),
    maxStreamsPerPrincipal: int("STREAM_MAX_PER_PRINCIPAL", 100, 1),
    tokenSecret: configured ? Buffer.from(secret, "utf8") : randomBytes(32),
    tokenSecretConfigured: configured,
    tokenTtlMs: int("STREAM_TOKEN_TTL_MS", 300_000, 1_000, 86_400_000),
    replayMaxDelayMs: int("REPLAY_MAX_DELAY_MS", 2_000, 0, 3_600_000),
    pageSize: int("REPLAY_BATCH_SIZE", 500, 1, 10_000),
  };
}
