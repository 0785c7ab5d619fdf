import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { BUS_PREFIX_PATTERN } from "@macp/pipeline";
import { loadLiveConfig } from "../streaming/live-config.js";
import type { LiveConfig } from "../streaming/live-config.js";
import { loadWebhookConfig } from "../webhooks/webhook-config.js";
import type { WebhookConfig } from "../webhooks/webhook-config.js";

/** Invalid control-plane configuration; the message names the variable. Startup aborts. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Scopes an authenticated principal may hold; `admin` implies every other scope. */
export const SCOPES = ["runs:read", "runs:write", "admin", "webhooks"] as const;
/** One of {@link SCOPES}. */
export type Scope = (typeof SCOPES)[number];

/** An API key as the control plane keeps it: only the SHA-256 of the key, never the key. */
export interface ApiKeyEntry {
  /** Principal id used for idempotency scope, rate limits, ownership and audit. */
  readonly id: string;
  readonly sha256: Buffer;
  readonly scopes: readonly Scope[];
  /** Requests per rate-limit window; `undefined` = `THROTTLE_LIMIT`. */
  readonly rateLimit?: number;
}

/** JWT bearer validation (OIDC access tokens). */
export interface JwtConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl?: string;
  readonly jwksJson?: { keys: unknown[] };
}

/** Where the control plane keeps its data. */
export type DatabaseConfig =
  | { readonly kind: "postgres"; readonly url: string; readonly schema: string; readonly poolMax: number; readonly idleTimeoutMs: number; readonly connectionTimeoutMs: number }
  /** `dataDir` undefined = in memory (`DATA_DIR=memory`). */
  | { readonly kind: "pglite"; readonly dataDir: string | undefined };

/** How the control plane authenticates to the runtime. */
export interface RuntimeConfig {
  /** Values accepted in a request's `runtime.kind`. */
  readonly kinds: readonly string[];
  readonly address: string;
  readonly tls: boolean;
  readonly allowInsecure: boolean;
  /** Observer credential (should carry `is_observer`): GetSession, passive subscribe. */
  readonly bearerToken: string | undefined;
  /** Per-sender credentials: the control plane speaks as a sender only with that sender's own token. */
  readonly senderTokens: ReadonlyMap<string, string>;
  /** The runtime runs in development auth: the bearer value names the sender. */
  readonly devAuth: boolean;
  readonly requestTimeoutMs: number;
  /** RUNTIME_CIRCUIT_BREAKER_THRESHOLD / _RESET_MS / _PROBE_MS. */
  readonly circuitBreaker: { readonly threshold: number; readonly resetMs: number; readonly probeMs: number };
}

/** pino log levels. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything the control plane reads from its environment, validated. */
export interface ControlPlaneConfig {
  /** `NODE_ENV=development`: no client auth required, plaintext runtime allowed. */
  readonly development: boolean;
  readonly host: string;
  readonly port: number;
  readonly corsOrigin: string;
  readonly bodyLimitBytes: number;
  readonly database: DatabaseConfig;
  readonly auth: {
    readonly apiKeys: readonly ApiKeyEntry[];
    readonly jwt: JwtConfig | undefined;
    readonly rateLimit: number;
    readonly rateWindowMs: number;
  };
  readonly runtime: RuntimeConfig;
  readonly stream: { readonly backoffBaseMs: number; readonly backoffMaxMs: number };
  /** Live streams to clients, stream tokens and replay. */
  readonly live: LiveConfig;
  /** Webhook secrets, URL policy and delivery retries. */
  readonly webhooks: WebhookConfig;
  readonly sessionPoll: { readonly baseMs: number; readonly maxMs: number; readonly timeoutMs: number };
  readonly runRecovery: boolean;
  /** How long a run's lease lasts without renewal (renewed every third of it). */
  readonly runLeaseTtlMs: number;
  /** `GET /runs/:id` cache: longest an entry is served without a re-read (0 = off) and most entries. */
  readonly runCache: { readonly ttlMs: number; readonly maxEntries: number };
  /** Runs launched at once by this instance; more wait their turn, stored as `queued`. */
  readonly launchConcurrency: number;
  /** Longest wait for the projector to apply a control-plane change an API call answers with. */
  readonly controlApplyTimeoutMs: number;
  /** The event pipeline's bus. */
  readonly bus: BusConfig;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** Where the run viewer's built assets are (`VIEWER_ASSETS_DIR`). */
  readonly viewerAssets: ViewerAssetsConfig;
  readonly warnings: readonly string[];
}

/** The event pipeline's bus: in memory (embedded) unless a NATS server is configured. */
export interface BusConfig {
  /** NATS server URL(s) of the JetStream bus; undefined = the in-memory bus with the projector in this process. */
  readonly natsUrl: string | undefined;
  /** Prefix of every stream, subject, consumer and bucket name. */
  readonly prefix: string;
  /** Raw partitions (fixed for the lifetime of a deployment's streams). */
  readonly partitions: number;
  /** Window in which a re-published envelope (same run and runtime sequence) is dropped by the bus. */
  readonly dedupeWindowMs: number;
  /** How long a projector's partition lease lasts without renewal (takeover time after a crash). */
  readonly partitionLeaseTtlMs: number;
}

/** `bundled`: the built `@macp/viewer` package; `dir`: a folder given by the operator; `off`: no viewer at `/`. */
export type ViewerAssetsConfig = { readonly kind: "bundled" } | { readonly kind: "dir"; readonly dir: string } | { readonly kind: "off" };

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration; throws {@link ConfigError} naming the variable. */
export function loadConfig(env: Env): ControlPlaneConfig {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min = 0): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
      throw new ConfigError(`${name} must be an integer >= ${min} (got "${raw}")`);
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === "1" || raw === "true") return true;
    if (raw === "0" || raw === "false") return false;
    throw new ConfigError(`${name} must be true/false or 1/0 (got "${raw}")`);
  };
  const warnings: string[] = [];

  const nodeEnv = get("NODE_ENV") ?? "production";
  const development = nodeEnv === "development";
  const logLevel = (get("LOG_LEVEL") ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const databaseUrl = get("DATABASE_URL");
  let database: DatabaseConfig;
  if (databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError("DATABASE_URL must start with postgres:// or postgresql://");
    const schema = get("DATABASE_SCHEMA") ?? "public";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError("DATABASE_SCHEMA must be a lowercase SQL identifier");
    const poolMax = int("DB_POOL_MAX", 20, 1);
    if (!development && poolMax < 2) throw new ConfigError("DB_POOL_MAX must be at least 2 outside development");
    database = {
      kind: "postgres",
      url: databaseUrl,
      schema,
      poolMax,
      idleTimeoutMs: int("DB_POOL_IDLE_TIMEOUT", 30_000),
      connectionTimeoutMs: int("DB_POOL_CONNECTION_TIMEOUT", 5_000),
    };
  } else {
    const dataDir = get("DATA_DIR") ?? ".macp-control-plane";
    database = { kind: "pglite", dataDir: dataDir === "memory" ? undefined : dataDir };
  }

  const apiKeys = [...parseApiKeyList(get("AUTH_API_KEYS")), ...parseApiKeyJson(get("AUTH_API_KEYS_JSON"), get("AUTH_API_KEYS_FILE"))];
  const jwt = parseJwt(get);
  if (!development && apiKeys.length === 0 && jwt === undefined) {
    throw new ConfigError("AUTH_API_KEYS, AUTH_API_KEYS_JSON or AUTH_JWT_ISSUER is required unless NODE_ENV=development");
  }
  if (development && apiKeys.length === 0 && jwt === undefined) warnings.push("development mode: requests without credentials are accepted with every scope");

  const runtimeTls = bool("RUNTIME_TLS", false);
  const allowInsecure = bool("RUNTIME_ALLOW_INSECURE", development);
  if (!runtimeTls && !allowInsecure) throw new ConfigError("RUNTIME_TLS is off: set RUNTIME_TLS=true or RUNTIME_ALLOW_INSECURE=true");
  const address = get("RUNTIME_ADDRESS") ?? "127.0.0.1:50051";
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) throw new ConfigError(`RUNTIME_ADDRESS must be host:port (got "${address}")`);
  const devAuth = bool("RUNTIME_DEV_AUTH", development);
  const bearerToken = get("RUNTIME_BEARER_TOKEN");
  if (!development && devAuth && bearerToken === undefined) {
    throw new ConfigError("RUNTIME_DEV_AUTH is on outside development without RUNTIME_BEARER_TOKEN");
  }

  const webhooks = loadWebhookConfig(env, development, (message) => {
    throw new ConfigError(message);
  });
  if (!development && webhooks.secretKey === undefined) warnings.push("WEBHOOK_SECRET_KEY is not set: webhook secrets are stored unencrypted");

  const port = int("PORT", 3001);
  if (port > 65_535) throw new ConfigError("PORT must be 0..65535");
  return {
    development,
    host: get("HOST") ?? "0.0.0.0",
    port,
    corsOrigin: get("CORS_ORIGIN") ?? "http://localhost:3000",
    bodyLimitBytes: int("BODY_LIMIT_BYTES", 1_048_576, 1024),
    database,
    auth: { apiKeys, jwt, rateLimit: int("THROTTLE_LIMIT", 100, 1), rateWindowMs: int("THROTTLE_TTL_MS", 60_000, 1) },
    runtime: {
      kinds: runtimeKinds(get("RUNTIME_KIND")),
      address,
      tls: runtimeTls,
      allowInsecure,
      bearerToken,
      senderTokens: parseSenderTokens(get("RUNTIME_SENDER_TOKENS_JSON")),
      devAuth,
      requestTimeoutMs: int("RUNTIME_REQUEST_TIMEOUT_MS", 30_000, 1),
      circuitBreaker: {
        threshold: int("RUNTIME_CIRCUIT_BREAKER_THRESHOLD", 5, 1),
        resetMs: int("RUNTIME_CIRCUIT_BREAKER_RESET_MS", 30_000, 1),
        probeMs: int("RUNTIME_CIRCUIT_BREAKER_PROBE_MS", 2_000, 100),
      },
    },
    stream: { backoffBaseMs: int("STREAM_BACKOFF_BASE_MS", 250, 1), backoffMaxMs: int("STREAM_BACKOFF_MAX_MS", 30_000, 1) },
    live: loadLiveConfig(env, (message) => {
      throw new ConfigError(message);
    }),
    webhooks,
    sessionPoll: {
      baseMs: int("SESSION_POLL_BASE_MS", 100, 1),
      maxMs: int("SESSION_POLL_MAX_MS", 1_000, 1),
      timeoutMs: int("SESSION_POLL_TIMEOUT_MS", 600_000, 1),
    },
    runRecovery: bool("RUN_RECOVERY_ENABLED", true),
    runLeaseTtlMs: int("RUN_LEASE_TTL_MS", 15_000, 300),
    runCache: { ttlMs: int("RUN_CACHE_TTL_MS", 2_000), maxEntries: int("RUN_CACHE_MAX_ENTRIES", 10_000, 1) },
    launchConcurrency: int("RUN_LAUNCH_CONCURRENCY", 16, 1),
    controlApplyTimeoutMs: int("CONTROL_APPLY_TIMEOUT_MS", 30_000, 1),
    bus: loadBusConfig(get, int),
    logLevel,
    shutdownGraceMs: int("SHUTDOWN_GRACE_MS", 10_000),
    viewerAssets: viewerAssetsOf(get("VIEWER_ASSETS_DIR")),
    warnings,
  };
}

function loadBusConfig(get: (name: string) => string | undefined, int: (name: string, fallback: number, min?: number) => number): BusConfig {
  const prefix = get("BUS_PREFIX") ?? "macp";
  if (!BUS_PREFIX_PATTERN.test(prefix)) throw new ConfigError(`BUS_PREFIX must be 1-32 letters, digits, "_" or "-" (got "${prefix}")`);
  const partitions = int("BUS_PARTITIONS", 8, 1);
  if (partitions > 1024) throw new ConfigError("BUS_PARTITIONS must be 1..1024");
  const natsUrl = get("NATS_URL");
  if (natsUrl !== undefined && !natsUrl.split(",").every((url) => /^(nats|tls):\/\/\S+$/.test(url.trim()))) {
    throw new ConfigError("NATS_URL must be nats:// or tls:// URLs, comma-separated");
  }
  return {
    natsUrl,
    prefix,
    partitions,
    dedupeWindowMs: int("BUS_DEDUPE_WINDOW_MS", 120_000, 1_000),
    partitionLeaseTtlMs: int("PARTITION_LEASE_TTL_MS", 6_000, 300),
  };
}

/** The configuration with every secret removed, for the startup log line. */
export function describeConfig(config: ControlPlaneConfig): Record<string, unknown> {
  return {
    development: config.development,
    listen: `${config.host}:${config.port}`,
    database: config.database.kind === "postgres" ? { kind: "postgres", url: maskUrl(config.database.url), schema: config.database.schema } : config.database,
    apiKeys: config.auth.apiKeys.map((key) => ({ id: key.id, scopes: key.scopes })),
    jwt: config.auth.jwt ? { issuer: config.auth.jwt.issuer, audience: config.auth.jwt.audience } : undefined,
    runtime: {
      address: config.runtime.address,
      tls: config.runtime.tls,
      kinds: config.runtime.kinds,
      devAuth: config.runtime.devAuth,
      observerToken: config.runtime.bearerToken !== undefined,
      senders: [...config.runtime.senderTokens.keys()],
    },
    bus: { ...config.bus, natsUrl: config.bus.natsUrl !== undefined ? maskUrl(config.bus.natsUrl) : undefined },
  };
}

function viewerAssetsOf(raw: string | undefined): ViewerAssetsConfig {
  if (raw === undefined) return { kind: "bundled" };
  return raw.toLowerCase() === "off" ? { kind: "off" } : { kind: "dir", dir: raw };
}

function maskUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * Accepted `runtime.kind` values by default: this repository's runtime (`macp-ts`, its manifest
 * agent id `macp-runtime`) and the names the existing control plane and UI send for a MACP
 * runtime (`rust`, `rust-runtime`), which this runtime is wire-compatible with.
 */
export const DEFAULT_RUNTIME_KINDS = ["macp-ts", "rust", "rust-runtime", "macp-runtime"] as const;

function runtimeKinds(raw: string | undefined): string[] {
  if (raw === undefined) return [...DEFAULT_RUNTIME_KINDS];
  const kinds = [...new Set(raw.split(",").map((kind) => kind.trim()).filter((kind) => kind !== ""))];
  const bad = kinds.find((kind) => kind.length > 64);
  if (kinds.length === 0 || bad !== undefined) throw new ConfigError("RUNTIME_KIND must be a comma-separated list of names of at most 64 characters");
  return kinds;
}

/** SHA-256 of an API key: the only form in which keys are kept. */
export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

function parseApiKeyList(raw: string | undefined): ApiKeyEntry[] {
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "")
    .map((key) => ({ id: `key:${hashApiKey(key).toString("hex").slice(0, 12)}`, sha256: hashApiKey(key), scopes: ["admin"] as Scope[] }));
}

function parseApiKeyJson(inline: string | undefined, file: string | undefined): ApiKeyEntry[] {
  const name = inline !== undefined ? "AUTH_API_KEYS_JSON" : "AUTH_API_KEYS_FILE";
  let text = inline;
  if (text === undefined && file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(`AUTH_API_KEYS_FILE cannot be read: ${(error as Error).message}`);
    }
  }
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ConfigError(`${name} must be a non-empty JSON array of {id, sha256|key, scopes}`);
  const seen = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const where = `${name}[${index}]`;
    if (typeof entry !== "object" || entry === null) throw new ConfigError(`${where} must be an object`);
    const { id, sha256, key, scopes, rateLimit } = entry as Record<string, unknown>;
    if (typeof id !== "string" || id === "") throw new ConfigError(`${where}.id must be a non-empty string`);
    if (seen.has(id)) throw new ConfigError(`${where}.id "${id}" is repeated`);
    seen.add(id);
    let digest: Buffer;
    if (typeof sha256 === "string" && /^[0-9a-f]{64}$/i.test(sha256)) digest = Buffer.from(sha256, "hex");
    else if (typeof key === "string" && key !== "") digest = hashApiKey(key);
    else throw new ConfigError(`${where} needs sha256 (64 hex digits) or key`);
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => SCOPES.includes(scope as Scope))) {
      throw new ConfigError(`${where}.scopes must be a non-empty array of ${SCOPES.join(", ")}`);
    }
    if (rateLimit !== undefined && (typeof rateLimit !== "number" || !Number.isInteger(rateLimit) || rateLimit < 1)) {
      throw new ConfigError(`${where}.rateLimit must be a positive integer`);
    }
    return { id, sha256: digest, scopes: scopes as Scope[], ...(rateLimit !== undefined ? { rateLimit: rateLimit as number } : {}) };
  });
}

function parseJwt(get: (name: string) => string | undefined): JwtConfig | undefined {
  const issuer = get("AUTH_JWT_ISSUER");
  const jwksUrl = get("AUTH_JWKS_URL");
  const jwksText = get("AUTH_JWKS_JSON");
  const audience = get("AUTH_JWT_AUDIENCE") ?? "macp-control-plane";
  if (issuer === undefined) {
    if (jwksUrl !== undefined || jwksText !== undefined) throw new ConfigError("AUTH_JWKS_URL / AUTH_JWKS_JSON need AUTH_JWT_ISSUER");
    return undefined;
  }
  if (jwksText !== undefined) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(jwksText);
    } catch {
      throw new ConfigError("AUTH_JWKS_JSON is not valid JSON");
    }
    if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new ConfigError("AUTH_JWKS_JSON must be a JWKS document {keys: [...]}");
    }
    return { issuer, audience, jwksJson: jwks as { keys: unknown[] } };
  }
  if (jwksUrl === undefined) throw new ConfigError("AUTH_JWT_ISSUER needs AUTH_JWKS_URL or AUTH_JWKS_JSON");
  if (!/^https?:\/\//.test(jwksUrl)) throw new ConfigError("AUTH_JWKS_URL must be an http:// or https:// URL");
  return { issuer, audience, jwksUrl };
}

function parseSenderTokens(raw: string | undefined): Map<string, string> {
  const tokens = new Map<string, string>();
  if (raw === undefined) return tokens;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("RUNTIME_SENDER_TOKENS_JSON is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('RUNTIME_SENDER_TOKENS_JSON must be an object {"<sender>": "<token>"}');
  }
  for (const [sender, token] of Object.entries(parsed)) {
    if (typeof token !== "string" || token === "") throw new ConfigError(`RUNTIME_SENDER_TOKENS_JSON["${sender}"] must be a non-empty string`);
    tokens.set(sender, token);
  }
  return tokens;
}
