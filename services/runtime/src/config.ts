import { readFileSync, statSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import type { AuthConfig, JwtSettings } from "./auth/authenticator.js";
import { parseJwks } from "./auth/jwks.js";
import { parseStaticTokens, type StaticTokenTable } from "./auth/static-tokens.js";
import type { RateLimits } from "./rate-limiter.js";
import { ConfigError } from "./config-error.js";

export { ConfigError };

/** An IP socket address; `address` is the `host:port` (or `[v6]:port`) form servers bind to. */
export interface SocketAddress {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

/** PEM files of the server certificate chain and its private key. */
export interface TlsConfig {
  readonly certPath: string;
  readonly keyPath: string;
}

/** The storage backend in effect (`MACP_MEMORY_ONLY=1` overrides `MACP_STORAGE_BACKEND`). */
export type StorageConfig =
  | { readonly backend: "memory" }
  | { readonly backend: "file"; readonly dataDir: string }
  /** `databaseUrl` may carry a password: log {@link describeConfig} output, never this. */
  | { readonly backend: "postgres"; readonly databaseUrl: string; readonly databaseSchema: string }
  /** Runtime replicas sharing one JetStream log (services/runtime/README.md, "Replicas"). */
  | { readonly backend: "jetstream"; readonly natsUrl: string; readonly replicas: number; readonly prefix: string };

/** pino log levels accepted by `MACP_LOG_LEVEL`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything the runtime reads from its environment, validated. */
export interface RuntimeConfig {
  /** `MACP_BIND_ADDR`. */
  readonly bindAddress: SocketAddress;
  /** `MACP_TLS_CERT_PATH` + `MACP_TLS_KEY_PATH`; `null` means plaintext (`MACP_ALLOW_INSECURE=1`). */
  readonly tls: TlsConfig | null;
  readonly storage: StorageConfig;
  /** `MACP_STRICT_RECOVERY=1`: abort startup on any per-session recovery error. */
  readonly strictRecovery: boolean;
  /** `MACP_CHECKPOINT_INTERVAL`; 0 disables checkpoints. */
  readonly checkpointInterval: number;
  /** `MACP_CLEANUP_INTERVAL_SECS`: period of the expiry/eviction sweep. */
  readonly cleanupIntervalSecs: number;
  /** `MACP_SESSION_RETENTION_SECS`: time after finishing (or loading) at which finished sessions leave memory. */
  readonly sessionRetentionSecs: number;
  /** `MACP_HISTORY_RETENTION_SECS`: time after finishing at which a session's history is removed from storage; 0 keeps it forever. */
  readonly historyRetentionSecs: number;
  /** `MACP_ARCHIVE_DIR`: where removed sessions are appended as JSONL first; null removes without archiving. */
  readonly archiveDir: string | null;
  /** `MACP_MAX_PAYLOAD_BYTES`. */
  readonly maxPayloadBytes: number;
  /** `MACP_SESSION_START_LIMIT_PER_MINUTE`, `MACP_MESSAGE_LIMIT_PER_MINUTE`. */
  readonly rateLimits: RateLimits;
  readonly auth: AuthConfig;
  /** `MACP_METRICS_ADDR`; `null` when set to `off`. */
  readonly metricsAddress: SocketAddress | null;
  /** `MACP_LOG_LEVEL`. */
  readonly logLevel: LogLevel;
  /** `MACP_SHUTDOWN_GRACE_MS`: how long in-flight calls may finish before a forced shutdown. */
  readonly shutdownGraceMs: number;
  /** Non-fatal findings to log at startup (never containing secrets). */
  readonly warnings: readonly string[];
}

/** Every variable the runtime reads (protocol.md §5.7 plus ours). */
export const CONFIG_VARIABLES = [
  "MACP_BIND_ADDR",
  "MACP_TLS_CERT_PATH",
  "MACP_TLS_KEY_PATH",
  "MACP_ALLOW_INSECURE",
  "MACP_MEMORY_ONLY",
  "MACP_DATA_DIR",
  "MACP_STORAGE_BACKEND",
  "MACP_DATABASE_URL",
  "MACP_DATABASE_SCHEMA",
  "MACP_NATS_URL",
  "MACP_JETSTREAM_REPLICAS",
  "MACP_JETSTREAM_PREFIX",
  "MACP_STRICT_RECOVERY",
  "MACP_CHECKPOINT_INTERVAL",
  "MACP_CLEANUP_INTERVAL_SECS",
  "MACP_SESSION_RETENTION_SECS",
  "MACP_HISTORY_RETENTION_SECS",
  "MACP_ARCHIVE_DIR",
  "MACP_MAX_PAYLOAD_BYTES",
  "MACP_SESSION_START_LIMIT_PER_MINUTE",
  "MACP_MESSAGE_LIMIT_PER_MINUTE",
  "MACP_AUTH_TOKENS_JSON",
  "MACP_AUTH_TOKENS_FILE",
  "MACP_AUTH_ISSUER",
  "MACP_AUTH_AUDIENCE",
  "MACP_AUTH_JWKS_JSON",
  "MACP_AUTH_JWKS_URL",
  "MACP_AUTH_JWKS_TTL_SECS",
  "MACP_ALLOW_DEV_SENDER_HEADER",
  "MACP_METRICS_ADDR",
  "MACP_LOG_LEVEL",
  "MACP_SHUTDOWN_GRACE_MS",
] as const;

type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

const STORAGE_BACKENDS = ["file", "postgres", "memory", "jetstream"] as const;

/** Variables other MACP components read; not ours, so not typos. */
const FOREIGN_VARIABLES = /^MACP_TEST_/;

/**
 * Parses and validates the runtime configuration. Same names and defaults as the reference
 * runtime (protocol.md §5.7), but strict where it silently falls back: every malformed value,
 * and every half-configured authentication setting that would otherwise degrade to dev mode,
 * throws a {@link ConfigError}. An empty variable counts as unset. Reads the token file and
 * checks that TLS files exist; nothing else touches the outside world.
 */
export function loadConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const vars = new EnvReader(env);
  const allowInsecure = vars.flag("MACP_ALLOW_INSECURE");
  const config: RuntimeConfig = {
    bindAddress: vars.socketAddress("MACP_BIND_ADDR", "127.0.0.1:50051"),
    tls: readTls(vars, allowInsecure),
    storage: readStorage(vars),
    strictRecovery: vars.flag("MACP_STRICT_RECOVERY"),
    checkpointInterval: vars.integer("MACP_CHECKPOINT_INTERVAL", 0, 0),
    cleanupIntervalSecs: vars.integer("MACP_CLEANUP_INTERVAL_SECS", 60, 1),
    sessionRetentionSecs: vars.integer("MACP_SESSION_RETENTION_SECS", 3600, 0),
    historyRetentionSecs: vars.integer("MACP_HISTORY_RETENTION_SECS", 30 * 86_400, 0),
    archiveDir: vars.get("MACP_ARCHIVE_DIR") ?? null,
    maxPayloadBytes: vars.integer("MACP_MAX_PAYLOAD_BYTES", 1_048_576, 1),
    rateLimits: {
      sessionStartsPerMinute: vars.integer("MACP_SESSION_START_LIMIT_PER_MINUTE", 60, 1),
      messagesPerMinute: vars.integer("MACP_MESSAGE_LIMIT_PER_MINUTE", 600, 1),
    },
    auth: readAuth(vars),
    metricsAddress: vars.get("MACP_METRICS_ADDR") === "off" ? null : vars.socketAddress("MACP_METRICS_ADDR", "127.0.0.1:9464"),
    logLevel: vars.oneOf("MACP_LOG_LEVEL", LOG_LEVELS, "info"),
    shutdownGraceMs: vars.integer("MACP_SHUTDOWN_GRACE_MS", 10_000, 0),
    warnings: vars.warnings,
  };
  vars.warnAboutUnknownVariables();
  return config;
}

function readTls(vars: EnvReader, allowInsecure: boolean): TlsConfig | null {
  const certPath = vars.existingFile("MACP_TLS_CERT_PATH");
  const keyPath = vars.existingFile("MACP_TLS_KEY_PATH");
  if (certPath !== undefined && keyPath !== undefined) {
    if (allowInsecure) vars.warn("MACP_ALLOW_INSECURE=1 has no effect: TLS is configured");
    return { certPath, keyPath };
  }
  // The reference serves plaintext when only one path is set and insecure mode is on; a
  // half-configured TLS setup is a mistake worth stopping for.
  if (certPath !== undefined || keyPath !== undefined) {
    throw new ConfigError("MACP_TLS_CERT_PATH and MACP_TLS_KEY_PATH must be set together");
  }
  if (!allowInsecure) throw new ConfigError("TLS is required unless MACP_ALLOW_INSECURE=1 is set");
  return null;
}

function readStorage(vars: EnvReader): StorageConfig {
  const named = vars.get("MACP_STORAGE_BACKEND");
  const backend = named ?? "file";
  if (!(STORAGE_BACKENDS as readonly string[]).includes(backend)) {
    throw new ConfigError(
      `MACP_STORAGE_BACKEND: unknown storage backend: ${backend}. Valid: ${STORAGE_BACKENDS.join(", ")}`,
    );
  }
  const databaseUrl = vars.get("MACP_DATABASE_URL");
  if (databaseUrl !== undefined && !isPostgresUrl(databaseUrl)) {
    // Never echo the value: it usually carries a password.
    throw new ConfigError("MACP_DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  const dataDir = vars.get("MACP_DATA_DIR") ?? ".macp-data";
  if (vars.flag("MACP_MEMORY_ONLY")) {
    if (named !== undefined && named !== "memory") {
      vars.warn(`MACP_MEMORY_ONLY=1 overrides MACP_STORAGE_BACKEND=${named}`);
    }
    return { backend: "memory" };
  }
  if (backend !== "postgres" && databaseUrl !== undefined) {
    vars.warn("MACP_DATABASE_URL has no effect unless MACP_STORAGE_BACKEND=postgres");
  }
  switch (backend) {
    case "memory":
      return { backend: "memory" };
    case "postgres":
      if (databaseUrl === undefined) {
        throw new ConfigError("MACP_DATABASE_URL is required when MACP_STORAGE_BACKEND=postgres");
      }
      return { backend: "postgres", databaseUrl, databaseSchema: readDatabaseSchema(vars) };
    case "jetstream":
      return readJetStream(vars);
    default:
      return { backend: "file", dataDir };
  }
}

function readJetStream(vars: EnvReader): StorageConfig {
  const natsUrl = vars.get("MACP_NATS_URL");
  if (natsUrl === undefined) throw new ConfigError("MACP_NATS_URL is required when MACP_STORAGE_BACKEND=jetstream");
  for (const url of natsUrl.split(",")) {
    // Never echo the value: it may carry credentials.
    if (!/^(nats|tls):\/\/[^\s]+$/.test(url.trim())) throw new ConfigError("MACP_NATS_URL must be nats:// or tls:// URLs, comma-separated");
  }
  const replicas = vars.get("MACP_JETSTREAM_REPLICAS") ?? "1";
  if (!["1", "3", "5"].includes(replicas)) throw new ConfigError(`MACP_JETSTREAM_REPLICAS must be 1, 3 or 5, got "${replicas}"`);
  const prefix = vars.get("MACP_JETSTREAM_PREFIX") ?? "macp_runtime";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw new ConfigError(`MACP_JETSTREAM_PREFIX must be 1-64 of A-Z a-z 0-9 _ -, got "${prefix}"`);
  return { backend: "jetstream", natsUrl, replicas: Number(replicas), prefix };
}

function readDatabaseSchema(vars: EnvReader): string {
  const schema = vars.get("MACP_DATABASE_SCHEMA") ?? "macp";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(`MACP_DATABASE_SCHEMA must be a plain SQL identifier (letters, digits, _), got "${schema}"`);
  }
  return schema;
}

function isPostgresUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "postgres:" || url.protocol === "postgresql:";
  } catch {
    return false;
  }
}

function readAuth(vars: EnvReader): AuthConfig {
  const staticTokens = readStaticTokens(vars);
  const jwt = readJwt(vars);
  const allowDevSenderHeader = vars.flag("MACP_ALLOW_DEV_SENDER_HEADER");
  const devMode = staticTokens === null && jwt === null;
  if (allowDevSenderHeader && !devMode) {
    throw new ConfigError(
      "MACP_ALLOW_DEV_SENDER_HEADER=1 is only allowed in dev mode (no MACP_AUTH_TOKENS_* and no MACP_AUTH_ISSUER)",
    );
  }
  if (devMode) {
    vars.warn("no authentication configured: dev mode accepts any bearer value as the sender identity");
  }
  return { jwt, staticTokens, allowDevSenderHeader };
}

function readStaticTokens(vars: EnvReader): StaticTokenTable | null {
  const inline = vars.get("MACP_AUTH_TOKENS_JSON");
  const file = vars.get("MACP_AUTH_TOKENS_FILE");
  if (inline !== undefined && file !== undefined) {
    vars.warn("MACP_AUTH_TOKENS_FILE is ignored because MACP_AUTH_TOKENS_JSON is set");
  }
  if (inline !== undefined) return tokenTable(vars, "MACP_AUTH_TOKENS_JSON", inline);
  if (file !== undefined) return tokenTable(vars, "MACP_AUTH_TOKENS_FILE", readTokenFile(file));
  return null;
}

function tokenTable(vars: EnvReader, variable: ConfigVariable, text: string): StaticTokenTable {
  const parsed = vars.parse(variable, () => parseStaticTokens(text));
  for (const warning of parsed.warnings) vars.warn(`${variable} ${warning}`);
  return parsed.table;
}

function readTokenFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`MACP_AUTH_TOKENS_FILE cannot be read (${reason}): ${path}`);
  }
}

function readJwt(vars: EnvReader): JwtSettings | null {
  const issuer = vars.get("MACP_AUTH_ISSUER");
  const jwksJson = vars.get("MACP_AUTH_JWKS_JSON");
  const jwksUrl = vars.get("MACP_AUTH_JWKS_URL");
  if (issuer === undefined) {
    // The reference silently drops JWT validation here (and may fall back to dev mode).
    const orphan = (["MACP_AUTH_JWKS_JSON", "MACP_AUTH_JWKS_URL", "MACP_AUTH_AUDIENCE", "MACP_AUTH_JWKS_TTL_SECS"] as const)
      .find((name) => vars.get(name) !== undefined);
    if (orphan !== undefined) throw new ConfigError(`${orphan} is set but MACP_AUTH_ISSUER is not; JWT validation needs both`);
    return null;
  }
  const audience = vars.get("MACP_AUTH_AUDIENCE") ?? "macp-runtime";
  const ttlSecs = vars.integer("MACP_AUTH_JWKS_TTL_SECS", 300, 1);
  if (jwksJson !== undefined) {
    if (jwksUrl !== undefined) vars.warn("MACP_AUTH_JWKS_URL is ignored because MACP_AUTH_JWKS_JSON is set");
    const parsed = vars.parse("MACP_AUTH_JWKS_JSON", () => parseJwks(jwksJson));
    for (const skipped of parsed.skipped) vars.warn(`MACP_AUTH_JWKS_JSON ${skipped}; skipped`);
    return { issuer, audience, jwks: { kind: "inline", keys: parsed.set } };
  }
  if (jwksUrl !== undefined) {
    return { issuer, audience, jwks: { kind: "url", url: httpUrl(jwksUrl), ttlSecs } };
  }
  throw new ConfigError("MACP_AUTH_ISSUER is set but neither MACP_AUTH_JWKS_JSON nor MACP_AUTH_JWKS_URL is");
}

function httpUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new ConfigError(`MACP_AUTH_JWKS_URL must be an absolute http:// or https:// URL, got "${text}"`);
  }
  return url;
}

/** Typed, validated access to the environment; collects warnings as it goes. */
class EnvReader {
  readonly warnings: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get(name: ConfigVariable): string | undefined {
    const value = this.env[name];
    return value === undefined || value === "" ? undefined : value;
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** `"1"` on, unset/`""`/`"0"` off; anything else is an error (the reference reads it as off). */
  flag(name: ConfigVariable): boolean {
    const value = this.get(name);
    if (value === undefined || value === "0") return false;
    if (value === "1") return true;
    throw new ConfigError(`${name} must be "1" or "0", got "${value}"`);
  }

  integer(name: ConfigVariable, fallback: number, min: 0 | 1): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min) {
      const kind = min === 1 ? "a positive integer" : "a non-negative integer";
      throw new ConfigError(`${name} must be ${kind}, got "${value}"`);
    }
    return parsed;
  }

  oneOf<T extends string>(name: ConfigVariable, allowed: readonly T[], fallback: T): T {
    const value = this.get(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
    }
    return value as T;
  }

  /** `IPv4:port` or `[IPv6]:port`; hostnames are rejected, as by the reference. */
  socketAddress(name: ConfigVariable, fallback: string): SocketAddress {
    const value = this.get(name) ?? fallback;
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    const validHost = host !== undefined && (match?.[1] !== undefined ? isIPv6(host) : isIPv4(host));
    if (!validHost || !(port <= 65_535)) {
      throw new ConfigError(`${name} must be IPv4:port or [IPv6]:port (hostnames are not allowed), got "${value}"`);
    }
    return { host, port, address: match?.[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}` };
  }

  /** A path that must name an existing regular file. */
  existingFile(name: ConfigVariable): string | undefined {
    const path = this.get(name);
    if (path === undefined) return undefined;
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
      throw new ConfigError(`${name} does not name an existing file: ${path}`);
    }
    return path;
  }

  /** Runs a document parser, reporting its failure against the variable the document came from. */
  parse<T>(name: ConfigVariable, parser: () => T): T {
    try {
      return parser();
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`${name} ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  warnAboutUnknownVariables(): void {
    for (const name of Object.keys(this.env)) {
      if (!name.startsWith("MACP_") || FOREIGN_VARIABLES.test(name)) continue;
      if (!(CONFIG_VARIABLES as readonly string[]).includes(name)) {
        this.warn(`${name} is not a runtime setting and is ignored (misspelt?)`);
      }
    }
  }
}

/** A summary of the configuration that is safe to log: no tokens, keys or database passwords. */
export function describeConfig(config: RuntimeConfig): Record<string, unknown> {
  const { auth, storage } = config;
  return {
    bindAddress: config.bindAddress.address,
    tls: config.tls,
    storage:
      storage.backend === "postgres"
        ? { backend: "postgres", databaseUrl: redactPassword(storage.databaseUrl), databaseSchema: storage.databaseSchema }
        : storage.backend === "jetstream"
          ? { ...storage, natsUrl: storage.natsUrl.split(",").map((url) => redactPassword(url.trim())).join(",") }
          : storage,
    strictRecovery: config.strictRecovery,
    checkpointInterval: config.checkpointInterval,
    cleanupIntervalSecs: config.cleanupIntervalSecs,
    sessionRetentionSecs: config.sessionRetentionSecs,
    historyRetentionSecs: config.historyRetentionSecs,
    archiveDir: config.archiveDir,
    maxPayloadBytes: config.maxPayloadBytes,
    rateLimits: config.rateLimits,
    auth: {
      mode: auth.jwt === null && auth.staticTokens === null ? "dev" : "configured",
      jwt:
        auth.jwt === null
          ? null
          : {
              issuer: auth.jwt.issuer,
              audience: auth.jwt.audience,
              jwks:
                auth.jwt.jwks.kind === "inline"
                  ? { inlineKeys: auth.jwt.jwks.keys.size }
                  : { url: `${auth.jwt.jwks.url.origin}${auth.jwt.jwks.url.pathname}`, ttlSecs: auth.jwt.jwks.ttlSecs },
            },
      staticTokens: auth.staticTokens?.size ?? 0,
      allowDevSenderHeader: auth.allowDevSenderHeader,
    },
    metricsAddress: config.metricsAddress?.address ?? "off",
    logLevel: config.logLevel,
    shutdownGraceMs: config.shutdownGraceMs,
  };
}

function redactPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password !== "") url.password = "***";
  return url.toString();
}
