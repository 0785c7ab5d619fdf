import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig, type RuntimeConfig } from "../src/config.js";

const scratch = mkdtempSync(join(tmpdir(), "macp-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, contents = "-----BEGIN PLACEHOLDER-----\n"): string {
  const path = join(scratch, name);
  writeFileSync(path, contents);
  return path;
}

const INSECURE = { MACP_ALLOW_INSECURE: "1" };
const HMAC_JWKS = JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0LXNlY3JldA==" }] });
const TOKENS = JSON.stringify([{ token: "alice-token", sender: "alice" }]);

function load(env: Record<string, string>): RuntimeConfig {
  return loadConfig({ ...INSECURE, ...env });
}

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig defaults", () => {
  const config = load({});

  it.each<[string, (c: RuntimeConfig) => unknown, unknown]>([
    ["MACP_BIND_ADDR", (c) => c.bindAddress, { host: "127.0.0.1", port: 50051, address: "127.0.0.1:50051" }],
    ["MACP_TLS_*", (c) => c.tls, null],
    ["MACP_STORAGE_BACKEND / MACP_DATA_DIR", (c) => c.storage, { backend: "file", dataDir: ".macp-data" }],
    ["MACP_STRICT_RECOVERY", (c) => c.strictRecovery, false],
    ["MACP_CHECKPOINT_INTERVAL", (c) => c.checkpointInterval, 0],
    ["MACP_CLEANUP_INTERVAL_SECS", (c) => c.cleanupIntervalSecs, 60],
    ["MACP_SESSION_RETENTION_SECS", (c) => c.sessionRetentionSecs, 3600],
    ["MACP_MAX_PAYLOAD_BYTES", (c) => c.maxPayloadBytes, 1_048_576],
    ["MACP_SESSION_START_LIMIT_PER_MINUTE", (c) => c.rateLimits.sessionStartsPerMinute, 60],
    ["MACP_MESSAGE_LIMIT_PER_MINUTE", (c) => c.rateLimits.messagesPerMinute, 600],
    ["MACP_AUTH_* (dev mode)", (c) => c.auth, { jwt: null, staticTokens: null, allowDevSenderHeader: false }],
    ["MACP_METRICS_ADDR", (c) => c.metricsAddress, { host: "127.0.0.1", port: 9464, address: "127.0.0.1:9464" }],
    ["MACP_LOG_LEVEL", (c) => c.logLevel, "info"],
    ["MACP_SHUTDOWN_GRACE_MS", (c) => c.shutdownGraceMs, 10_000],
  ])("%s", (_variable, read, expected) => {
    expect(read(config)).toEqual(expected);
  });

  it("warns that dev mode is active", () => {
    expect(config.warnings).toEqual(["no authentication configured: dev mode accepts any bearer value as the sender identity"]);
  });

  it("treats empty variables as unset", () => {
    expect(load({ MACP_BIND_ADDR: "", MACP_MAX_PAYLOAD_BYTES: "", MACP_AUTH_ISSUER: "" })).toEqual(config);
  });
});

describe("loadConfig values", () => {
  it.each<[Record<string, string>, (c: RuntimeConfig) => unknown, unknown]>([
    [{ MACP_BIND_ADDR: "0.0.0.0:7000" }, (c) => c.bindAddress.address, "0.0.0.0:7000"],
    [{ MACP_BIND_ADDR: "[::1]:7000" }, (c) => c.bindAddress, { host: "::1", port: 7000, address: "[::1]:7000" }],
    [{ MACP_BIND_ADDR: "127.0.0.1:0" }, (c) => c.bindAddress.port, 0],
    [{ MACP_MEMORY_ONLY: "1" }, (c) => c.storage, { backend: "memory" }],
    [{ MACP_STORAGE_BACKEND: "memory" }, (c) => c.storage, { backend: "memory" }],
    [{ MACP_DATA_DIR: "/var/lib/macp" }, (c) => c.storage, { backend: "file", dataDir: "/var/lib/macp" }],
    [{ MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://u:p@db/macp" }, (c) => c.storage, { backend: "postgres", databaseUrl: "postgres://u:p@db/macp", databaseSchema: "macp" }],
    [{ MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://u:p@db/macp", MACP_DATABASE_SCHEMA: "tenant_7" }, (c) => c.storage, { backend: "postgres", databaseUrl: "postgres://u:p@db/macp", databaseSchema: "tenant_7" }],
    [{ MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://db/macp", MACP_MEMORY_ONLY: "1" }, (c) => c.storage, { backend: "memory" }],
    [{ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: "nats://n1:4222,nats://n2:4222" }, (c) => c.storage, { backend: "jetstream", natsUrl: "nats://n1:4222,nats://n2:4222", replicas: 1, prefix: "macp_runtime" }],
    [{ MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: "nats://n1:4222", MACP_JETSTREAM_REPLICAS: "3", MACP_JETSTREAM_PREFIX: "prod-a" }, (c) => c.storage, { backend: "jetstream", natsUrl: "nats://n1:4222", replicas: 3, prefix: "prod-a" }],
    [{ MACP_STRICT_RECOVERY: "1" }, (c) => c.strictRecovery, true],
    [{ MACP_STRICT_RECOVERY: "0" }, (c) => c.strictRecovery, false],
    [{ MACP_CHECKPOINT_INTERVAL: "100" }, (c) => c.checkpointInterval, 100],
    [{ MACP_SESSION_RETENTION_SECS: "0" }, (c) => c.sessionRetentionSecs, 0],
    [{ MACP_MAX_PAYLOAD_BYTES: "2048" }, (c) => c.maxPayloadBytes, 2048],
    [{ MACP_METRICS_ADDR: "off" }, (c) => c.metricsAddress, null],
    [{ MACP_METRICS_ADDR: "[::]:9100" }, (c) => c.metricsAddress?.address, "[::]:9100"],
    [{ MACP_LOG_LEVEL: "debug" }, (c) => c.logLevel, "debug"],
    [{ MACP_SHUTDOWN_GRACE_MS: "0" }, (c) => c.shutdownGraceMs, 0],
    [{ MACP_ALLOW_DEV_SENDER_HEADER: "1" }, (c) => c.auth.allowDevSenderHeader, true],
    [{ MACP_AUTH_TOKENS_JSON: TOKENS }, (c) => c.auth.staticTokens?.size, 1],
    [{ MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: HMAC_JWKS }, (c) => [c.auth.jwt?.audience, c.auth.jwt?.jwks.kind], ["macp-runtime", "inline"]],
    [{ MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_URL: "https://idp.test/jwks" }, (c) => c.auth.jwt?.jwks, { kind: "url", url: new URL("https://idp.test/jwks"), ttlSecs: 300 }],
    [{ MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_URL: "https://idp.test/jwks", MACP_AUTH_JWKS_TTL_SECS: "60", MACP_AUTH_AUDIENCE: "aud" }, (c) => [c.auth.jwt?.audience, c.auth.jwt?.jwks], ["aud", { kind: "url", url: new URL("https://idp.test/jwks"), ttlSecs: 60 }]],
  ])("%o", (env, read, expected) => {
    expect(read(load(env))).toEqual(expected);
  });

  it("uses TLS when both paths name existing files, even with MACP_ALLOW_INSECURE=1", () => {
    const tls = { MACP_TLS_CERT_PATH: file("cert.pem"), MACP_TLS_KEY_PATH: file("key.pem") };
    expect(loadConfig(tls).tls).toEqual({ certPath: tls.MACP_TLS_CERT_PATH, keyPath: tls.MACP_TLS_KEY_PATH });
    const insecureToo = loadConfig({ ...tls, ...INSECURE });
    expect(insecureToo.tls).not.toBeNull();
    expect(insecureToo.warnings).toContain("MACP_ALLOW_INSECURE=1 has no effect: TLS is configured");
  });
});

describe("loadConfig rejects", () => {
  const missing = join(scratch, "does-not-exist.pem");

  it.each<[string, Record<string, string>, string]>([
    ["plaintext without MACP_ALLOW_INSECURE", {}, "TLS is required unless MACP_ALLOW_INSECURE=1 is set"],
    ["MACP_ALLOW_INSECURE other than 1/0", { MACP_ALLOW_INSECURE: "true" }, 'MACP_ALLOW_INSECURE must be "1" or "0", got "true"'],
    ["only a certificate", { ...INSECURE, MACP_TLS_CERT_PATH: file("only-cert.pem") }, "MACP_TLS_CERT_PATH and MACP_TLS_KEY_PATH must be set together"],
    ["a missing certificate file", { MACP_TLS_CERT_PATH: missing, MACP_TLS_KEY_PATH: file("k.pem") }, `MACP_TLS_CERT_PATH does not name an existing file: ${missing}`],
    ["a missing key file", { MACP_TLS_CERT_PATH: file("c.pem"), MACP_TLS_KEY_PATH: missing }, `MACP_TLS_KEY_PATH does not name an existing file: ${missing}`],
    ["a directory as key file", { MACP_TLS_CERT_PATH: file("c2.pem"), MACP_TLS_KEY_PATH: scratch }, `MACP_TLS_KEY_PATH does not name an existing file: ${scratch}`],
    ["a hostname bind address", { ...INSECURE, MACP_BIND_ADDR: "localhost:50051" }, 'MACP_BIND_ADDR must be IPv4:port or [IPv6]:port (hostnames are not allowed), got "localhost:50051"'],
    ["a bind address without port", { ...INSECURE, MACP_BIND_ADDR: "127.0.0.1" }, "MACP_BIND_ADDR must be IPv4:port"],
    ["a bind address with port out of range", { ...INSECURE, MACP_BIND_ADDR: "127.0.0.1:65536" }, "MACP_BIND_ADDR must be IPv4:port"],
    ["an unbracketed IPv6 bind address", { ...INSECURE, MACP_BIND_ADDR: "::1:50051" }, "MACP_BIND_ADDR must be IPv4:port"],
    ["a malformed IPv4 bind address", { ...INSECURE, MACP_BIND_ADDR: "256.0.0.1:1" }, "MACP_BIND_ADDR must be IPv4:port"],
    ["a hostname metrics address", { ...INSECURE, MACP_METRICS_ADDR: "metrics:9464" }, 'MACP_METRICS_ADDR must be IPv4:port or [IPv6]:port (hostnames are not allowed), got "metrics:9464"'],
    ["MACP_MEMORY_ONLY other than 1/0", { ...INSECURE, MACP_MEMORY_ONLY: "yes" }, 'MACP_MEMORY_ONLY must be "1" or "0", got "yes"'],
    ["MACP_STRICT_RECOVERY other than 1/0", { ...INSECURE, MACP_STRICT_RECOVERY: "on" }, 'MACP_STRICT_RECOVERY must be "1" or "0", got "on"'],
    ["an unknown storage backend", { ...INSECURE, MACP_STORAGE_BACKEND: "redis" }, "MACP_STORAGE_BACKEND: unknown storage backend: redis. Valid: file, postgres, memory"],
    ["postgres without a database URL", { ...INSECURE, MACP_STORAGE_BACKEND: "postgres" }, "MACP_DATABASE_URL is required when MACP_STORAGE_BACKEND=postgres"],
    ["jetstream without a NATS URL", { ...INSECURE, MACP_STORAGE_BACKEND: "jetstream" }, "MACP_NATS_URL is required when MACP_STORAGE_BACKEND=jetstream"],
    ["a NATS URL of another scheme", { ...INSECURE, MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: "http://u:hunter2@n1" }, "MACP_NATS_URL must be nats:// or tls:// URLs"],
    ["a JetStream replica count of 2", { ...INSECURE, MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: "nats://n1:4222", MACP_JETSTREAM_REPLICAS: "2" }, "MACP_JETSTREAM_REPLICAS must be 1, 3 or 5"],
    ["a JetStream prefix with a dot", { ...INSECURE, MACP_STORAGE_BACKEND: "jetstream", MACP_NATS_URL: "nats://n1:4222", MACP_JETSTREAM_PREFIX: "a.b" }, "MACP_JETSTREAM_PREFIX must be 1-64"],
    ["a schema name that is not an identifier", { ...INSECURE, MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://db/macp", MACP_DATABASE_SCHEMA: "a;drop" }, "MACP_DATABASE_SCHEMA must be a plain SQL identifier"],
    ["a non-postgres database URL", { ...INSECURE, MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "mysql://u:hunter2@db" }, "MACP_DATABASE_URL must be a postgres:// or postgresql:// URL"],
    ["a negative checkpoint interval", { ...INSECURE, MACP_CHECKPOINT_INTERVAL: "-1" }, 'MACP_CHECKPOINT_INTERVAL must be a non-negative integer, got "-1"'],
    ["a zero cleanup interval", { ...INSECURE, MACP_CLEANUP_INTERVAL_SECS: "0" }, 'MACP_CLEANUP_INTERVAL_SECS must be a positive integer, got "0"'],
    ["a junk retention", { ...INSECURE, MACP_SESSION_RETENTION_SECS: "1h" }, 'MACP_SESSION_RETENTION_SECS must be a non-negative integer, got "1h"'],
    ["a junk payload limit", { ...INSECURE, MACP_MAX_PAYLOAD_BYTES: "abc" }, 'MACP_MAX_PAYLOAD_BYTES must be a positive integer, got "abc"'],
    ["a zero payload limit", { ...INSECURE, MACP_MAX_PAYLOAD_BYTES: "0" }, 'MACP_MAX_PAYLOAD_BYTES must be a positive integer, got "0"'],
    ["a fractional payload limit", { ...INSECURE, MACP_MAX_PAYLOAD_BYTES: "1.5" }, 'MACP_MAX_PAYLOAD_BYTES must be a positive integer, got "1.5"'],
    ["an unsafe integer", { ...INSECURE, MACP_MAX_PAYLOAD_BYTES: "99999999999999999999" }, "MACP_MAX_PAYLOAD_BYTES must be a positive integer"],
    ["a zero session-start limit", { ...INSECURE, MACP_SESSION_START_LIMIT_PER_MINUTE: "0" }, 'MACP_SESSION_START_LIMIT_PER_MINUTE must be a positive integer, got "0"'],
    ["a junk message limit", { ...INSECURE, MACP_MESSAGE_LIMIT_PER_MINUTE: " 600" }, 'MACP_MESSAGE_LIMIT_PER_MINUTE must be a positive integer, got " 600"'],
    ["a junk shutdown grace", { ...INSECURE, MACP_SHUTDOWN_GRACE_MS: "10s" }, 'MACP_SHUTDOWN_GRACE_MS must be a non-negative integer, got "10s"'],
    ["an unknown log level", { ...INSECURE, MACP_LOG_LEVEL: "verbose" }, 'MACP_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    ["token JSON that does not parse", { ...INSECURE, MACP_AUTH_TOKENS_JSON: "[{" }, "MACP_AUTH_TOKENS_JSON is not valid JSON"],
    ["token JSON of the wrong shape", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '{"token":"t"}' }, 'MACP_AUTH_TOKENS_JSON must be a JSON array of token entries or an object {"tokens": [...]}'],
    ["an empty token table", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '{"tokens":[]}' }, "MACP_AUTH_TOKENS_JSON contains no tokens; unset it to run in dev mode"],
    ["a token entry without sender", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '[{"token":"t"}]' }, "MACP_AUTH_TOKENS_JSON tokens[0].sender must be a non-empty string"],
    ["a token entry without token", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '[{"token":"t","sender":"s"},{"sender":"s"}]' }, "MACP_AUTH_TOKENS_JSON tokens[1].token must be a non-empty string"],
    ["a mistyped token flag", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '[{"token":"t","sender":"s","is_observer":"yes"}]' }, "MACP_AUTH_TOKENS_JSON tokens[0].is_observer must be a boolean"],
    ["mistyped allowed_modes", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '[{"token":"t","sender":"s","allowed_modes":"m"}]' }, "MACP_AUTH_TOKENS_JSON tokens[0].allowed_modes must be an array of strings"],
    ["a fractional max_open_sessions", { ...INSECURE, MACP_AUTH_TOKENS_JSON: '[{"token":"t","sender":"s","max_open_sessions":1.5}]' }, "MACP_AUTH_TOKENS_JSON tokens[0].max_open_sessions must be a non-negative integer"],
    ["an unreadable token file", { ...INSECURE, MACP_AUTH_TOKENS_FILE: missing }, `MACP_AUTH_TOKENS_FILE cannot be read (ENOENT): ${missing}`],
    ["a token file that does not parse", { ...INSECURE, MACP_AUTH_TOKENS_FILE: file("tokens.json", "nope") }, "MACP_AUTH_TOKENS_FILE is not valid JSON"],
    ["an issuer without JWKS", { ...INSECURE, MACP_AUTH_ISSUER: "iss" }, "MACP_AUTH_ISSUER is set but neither MACP_AUTH_JWKS_JSON nor MACP_AUTH_JWKS_URL is"],
    ["an inline JWKS without issuer", { ...INSECURE, MACP_AUTH_JWKS_JSON: HMAC_JWKS }, "MACP_AUTH_JWKS_JSON is set but MACP_AUTH_ISSUER is not; JWT validation needs both"],
    ["a JWKS URL without issuer", { ...INSECURE, MACP_AUTH_JWKS_URL: "https://idp.test/jwks" }, "MACP_AUTH_JWKS_URL is set but MACP_AUTH_ISSUER is not; JWT validation needs both"],
    ["an audience without issuer", { ...INSECURE, MACP_AUTH_AUDIENCE: "aud" }, "MACP_AUTH_AUDIENCE is set but MACP_AUTH_ISSUER is not; JWT validation needs both"],
    ["an inline JWKS that does not parse", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: "{keys" }, "MACP_AUTH_JWKS_JSON is not valid JSON"],
    ["an inline JWKS without keys", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: "{}" }, 'MACP_AUTH_JWKS_JSON must be a JSON object with a "keys" array'],
    ["an inline JWKS with only unsupported keys", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}' }, "MACP_AUTH_JWKS_JSON has no usable keys (supported: RSA, EC P-256, oct)"],
    ["an RSA key without modulus", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: '{"keys":[{"kty":"RSA","e":"AQAB"}]}' }, "MACP_AUTH_JWKS_JSON keys[0].n must be a non-empty base64url string"],
    ["a short RSA key", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: [{ kty: "RSA", n: Buffer.alloc(128, 0xff).toString("base64url"), e: "AQAB" }] }) }, "MACP_AUTH_JWKS_JSON keys[0]: RSA modulus has 1024 bits; at least 2048 are required"],
    ["an EC key with short coordinates", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: '{"keys":[{"kty":"EC","x":"AAAA","y":"AAAA"}]}' }, "MACP_AUTH_JWKS_JSON keys[0]: P-256 coordinates x and y must be 32 bytes each"],
    ["an oct key without k", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: '{"keys":[{"kty":"oct"}]}' }, "MACP_AUTH_JWKS_JSON keys[0].k must be a non-empty string"],
    ["a JWKS URL that is not http(s)", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_URL: "file:///etc/jwks.json" }, 'MACP_AUTH_JWKS_URL must be an absolute http:// or https:// URL, got "file:///etc/jwks.json"'],
    ["a relative JWKS URL", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_URL: "/jwks.json" }, 'MACP_AUTH_JWKS_URL must be an absolute http:// or https:// URL, got "/jwks.json"'],
    ["a zero JWKS TTL", { ...INSECURE, MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_URL: "https://idp.test/jwks", MACP_AUTH_JWKS_TTL_SECS: "0" }, 'MACP_AUTH_JWKS_TTL_SECS must be a positive integer, got "0"'],
    ["MACP_ALLOW_DEV_SENDER_HEADER other than 1/0", { ...INSECURE, MACP_ALLOW_DEV_SENDER_HEADER: "true" }, 'MACP_ALLOW_DEV_SENDER_HEADER must be "1" or "0", got "true"'],
    ["the dev sender header with static tokens", { ...INSECURE, MACP_ALLOW_DEV_SENDER_HEADER: "1", MACP_AUTH_TOKENS_JSON: TOKENS }, "MACP_ALLOW_DEV_SENDER_HEADER=1 is only allowed in dev mode"],
    ["the dev sender header with JWT", { ...INSECURE, MACP_ALLOW_DEV_SENDER_HEADER: "1", MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: HMAC_JWKS }, "MACP_ALLOW_DEV_SENDER_HEADER=1 is only allowed in dev mode"],
  ])("%s", (_case, env, message) => {
    expect(failure(env)).toContain(message);
  });

  it("never echoes secrets in error messages", () => {
    const secretJson = '[{"token":"s3cr3t-token","sender":""}]';
    expect(failure({ ...INSECURE, MACP_AUTH_TOKENS_JSON: secretJson })).not.toContain("s3cr3t");
    expect(failure({ ...INSECURE, MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "mysql://u:hunter2@db" })).not.toContain("hunter2");
  });
});

describe("loadConfig warnings", () => {
  it.each<[string, Record<string, string>, string]>([
    ["inline tokens shadow the token file", { MACP_AUTH_TOKENS_JSON: TOKENS, MACP_AUTH_TOKENS_FILE: "/nonexistent" }, "MACP_AUTH_TOKENS_FILE is ignored because MACP_AUTH_TOKENS_JSON is set"],
    ["a dotted static token", { MACP_AUTH_TOKENS_JSON: '[{"token":"a.b","sender":"s"}]' }, 'MACP_AUTH_TOKENS_JSON tokens[0].token contains "." so it is routed to JWT validation and can never authenticate'],
    ["a repeated static token", { MACP_AUTH_TOKENS_JSON: '[{"token":"t","sender":"a"},{"token":"t","sender":"b"}]' }, "MACP_AUTH_TOKENS_JSON tokens[1] repeats the token of tokens[0]; the later entry wins"],
    ["inline JWKS shadows the URL", { MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: HMAC_JWKS, MACP_AUTH_JWKS_URL: "https://idp.test/jwks" }, "MACP_AUTH_JWKS_URL is ignored because MACP_AUTH_JWKS_JSON is set"],
    ["an unsupported JWKS key", { MACP_AUTH_ISSUER: "iss", MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: [{ kty: "EC", crv: "P-384" }, { kty: "oct", k: "a2V5" }] }) }, 'MACP_AUTH_JWKS_JSON keys[0]: curve "P-384" is not supported (P-256 only); skipped'],
    ["memory-only overriding a backend", { MACP_MEMORY_ONLY: "1", MACP_STORAGE_BACKEND: "file" }, "MACP_MEMORY_ONLY=1 overrides MACP_STORAGE_BACKEND=file"],
    ["an unused database URL", { MACP_DATABASE_URL: "postgres://db/macp" }, "MACP_DATABASE_URL has no effect unless MACP_STORAGE_BACKEND=postgres"],
    ["a misspelt variable", { MACP_MAX_PAYLOAD: "10" }, "MACP_MAX_PAYLOAD is not a runtime setting and is ignored (misspelt?)"],
  ])("%s", (_case, env, warning) => {
    expect(load(env).warnings).toContain(warning);
  });

  it("does not flag the test harness variables", () => {
    expect(load({ MACP_TEST_ENDPOINT: "127.0.0.1:1" }).warnings.some((w) => w.includes("MACP_TEST_ENDPOINT"))).toBe(false);
  });
});

describe("describeConfig", () => {
  it("summarises without tokens, keys or database passwords", () => {
    const config = load({
      MACP_STORAGE_BACKEND: "postgres",
      MACP_DATABASE_URL: "postgres://macp:hunter2@db:5432/macp",
      MACP_AUTH_TOKENS_JSON: '[{"token":"s3cr3t-token","sender":"alice"}]',
      MACP_AUTH_ISSUER: "https://issuer.test",
      MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: [{ kty: "oct", k: "dG9wLXNlY3JldC1rZXk=" }] }),
    });
    const summary = JSON.stringify(describeConfig(config));
    const everything = JSON.stringify(config);
    for (const secret of ["hunter2", "s3cr3t-token", "dG9wLXNlY3JldC1rZXk", "top-secret-key"]) {
      expect(summary).not.toContain(secret);
    }
    for (const secret of ["s3cr3t-token", "dG9wLXNlY3JldC1rZXk", "top-secret-key"]) {
      expect(everything).not.toContain(secret);
    }
    expect(describeConfig(config)).toMatchObject({
      storage: { backend: "postgres", databaseUrl: "postgres://macp:***@db:5432/macp" },
      auth: { mode: "configured", staticTokens: 1, jwt: { issuer: "https://issuer.test", jwks: { inlineKeys: 1 } } },
    });
  });
});
