/** Invalid worker configuration; the message names the variable. Startup aborts. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** pino log levels. */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** One of the pino log levels. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything the worker reads from its environment, validated. */
export interface WorkerConfig {
  readonly host: string;
  /** Port of /healthz, /readyz and /metrics. */
  readonly port: number;
  readonly database: { readonly url: string; readonly schema: string; readonly poolMax: number; readonly connectionTimeoutMs: number };
  readonly bus: {
    readonly natsUrl: string;
    readonly prefix: string;
    readonly partitions: number;
    readonly dedupeWindowMs: number;
    readonly partitionLeaseTtlMs: number;
    readonly ackWaitMs: number;
  };
  /** Most partitions this worker projects at once. */
  readonly maxPartitions: number;
  /** How often the consumer lag gauge is refreshed. */
  readonly lagPollMs: number;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration; throws {@link ConfigError} naming the variable. */
export function loadConfig(env: Env): WorkerConfig {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(`${name} must be an integer in ${min}..${max} (got "${raw}")`);
    return Number(raw);
  };
  const required = (name: string): string => {
    const value = get(name);
    if (value === undefined) throw new ConfigError(`${name} is required`);
    return value;
  };
  const databaseUrl = required("DATABASE_URL");
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError("DATABASE_URL must start with postgres:// or postgresql://");
  const schema = get("DATABASE_SCHEMA") ?? "public";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError("DATABASE_SCHEMA must be a lowercase SQL identifier");
  const natsUrl = required("NATS_URL");
  if (!/^(nats|tls):\/\//.test(natsUrl)) throw new ConfigError("NATS_URL must start with nats:// or tls://");
  const prefix = get("BUS_PREFIX") ?? "macp";
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) throw new ConfigError(`BUS_PREFIX must be 1-32 letters, digits, "_" or "-" (got "${prefix}")`);
  const partitions = int("BUS_PARTITIONS", 8, 1, 1024);
  const logLevel = (get("LOG_LEVEL") ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  return {
    host: get("HOST") ?? "0.0.0.0",
    port: int("PORT", 3002, 0, 65_535),
    database: { url: databaseUrl, schema, poolMax: int("DB_POOL_MAX", 10, 1), connectionTimeoutMs: int("DB_POOL_CONNECTION_TIMEOUT", 5_000) },
    bus: {
      natsUrl,
      prefix,
      partitions,
      dedupeWindowMs: int("BUS_DEDUPE_WINDOW_MS", 120_000, 1_000),
      partitionLeaseTtlMs: int("PARTITION_LEASE_TTL_MS", 6_000, 300),
      ackWaitMs: int("BUS_ACK_WAIT_MS", 30_000, 1_000),
    },
    maxPartitions: int("WORKER_MAX_PARTITIONS", partitions, 1),
    lagPollMs: int("LAG_POLL_MS", 5_000, 100),
    logLevel,
    shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 10_000),
  };
}
