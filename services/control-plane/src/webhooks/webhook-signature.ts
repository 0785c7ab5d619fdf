import { createHmac } from "node:crypto";

/** Headers of every delivery (README "Webhooks"). */
export const WEBHOOK_HEADERS = {
  event: "x-macp-event",
  /** Stable across retries of one delivery: receivers dedupe on it. */
  delivery: "x-macp-delivery",
  /** Unix seconds of this attempt; part of the signed text. */
  timestamp: "x-macp-timestamp",
  /** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
  signature: "x-macp-signature",
} as const;

/** The signature header value of `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex")}`;
}
