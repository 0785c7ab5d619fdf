import { createHash } from "node:crypto";

/** Webhook delivery settings (README "Webhooks"). */
export interface WebhookConfig {
  /** AES-256-GCM key for secrets at rest (WEBHOOK_SECRET_KEY); undefined = stored unencrypted. */
  readonly secretKey: Buffer | undefined;
  /** Deliver to loopback, private, link-local and other non-public addresses. */
  readonly allowPrivateUrls: boolean;
  /** Attempts before a delivery is `dead`. */
  readonly maxAttempts: number;
  /** First retry delay; each later one doubles (with jitter) up to {@link retryMaxMs}. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Deadline of one HTTP attempt. */
  readonly timeoutMs: number;
  /** How often the outbox is scanned for due deliveries (committed ones also wake it at once); with NATS, for overdue ones. */
  readonly pollIntervalMs: number;
  /** NATS mode: how long a handed-out queue message may go unacknowledged before another instance gets it. */
  readonly ackWaitMs: number;
  /** NATS mode: a pending delivery this overdue lost its queue message and is published again. */
  readonly republishAfterMs: number;
  /** Deliveries in flight per instance. */
  readonly concurrency: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the webhook settings; `fail` reports an invalid variable by name (config.ts throws ConfigError). */
export function loadWebhookConfig(env: Env, development: boolean, fail: (message: string) => never): WebhookConfig {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) fail(`${name} must be an integer in ${min}..${max} (got "${raw}")`);
    return Number(raw);
  };
  const flag = value("WEBHOOK_ALLOW_PRIVATE_URLS")?.toLowerCase();
  if (flag !== undefined && !["true", "false", "1", "0"].includes(flag)) fail(`WEBHOOK_ALLOW_PRIVATE_URLS must be true/false or 1/0 (got "${flag}")`);
  const key = value("WEBHOOK_SECRET_KEY");
  if (key !== undefined && key.length < 32) fail("WEBHOOK_SECRET_KEY must be at least 32 characters");
  const retryBaseMs = int("WEBHOOK_RETRY_BASE_MS", 1_000, 1, 3_600_000);
  const retryMaxMs = int("WEBHOOK_RETRY_MAX_MS", 600_000, 1, 86_400_000);
  if (retryMaxMs < retryBaseMs) fail("WEBHOOK_RETRY_MAX_MS must be at least WEBHOOK_RETRY_BASE_MS");
  return {
    // Any passphrase of 32+ characters becomes a 256-bit key.
    secretKey: key === undefined ? undefined : createHash("sha256").update(key, "utf8").digest(),
    allowPrivateUrls: flag === undefined ? development : flag === "true" || flag === "1",
    maxAttempts: int("WEBHOOK_MAX_ATTEMPTS", 8, 1, 100),
    retryBaseMs,
    retryMaxMs,
    timeoutMs: int("WEBHOOK_TIMEOUT_MS", 10_000, 100, 300_000),
    pollIntervalMs: int("WEBHOOK_POLL_INTERVAL_MS", 1_000, 10, 3_600_000),
    concurrency: int("WEBHOOK_CONCURRENCY", 4, 1, 256),
    ackWaitMs: int("WEBHOOK_ACK_WAIT_MS", 30_000, 500, 3_600_000),
    republishAfterMs: int("WEBHOOK_REPUBLISH_AFTER_MS", 60_000, 1_000, 86_400_000),
  };
}
