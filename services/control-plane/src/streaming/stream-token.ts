import { createHmac, timingSafeEqual } from "node:crypto";
import type { Principal } from "../http/auth.js";

/** What a stream token grants: reading the streams of one run, until `expiresAt`. */
export interface StreamGrant {
  readonly runId: string;
  readonly principalId: string;
  readonly principalKind: Principal["kind"];
  readonly expiresAt: number;
}

const KINDS = new Set<Principal["kind"]>(["api-key", "jwt", "dev"]);

function sign(secret: Buffer, body: string): string {
  return createHmac("sha256", secret).update(body).digest("base64url");
}

/**
 * Mints a token for browsers, which cannot set `Authorization` on an EventSource or WebSocket
 * HMAC-SHA256 over `{run, principal, expiry}`, bound to one run and read-only.
 */
export function mintStreamToken(secret: Buffer, grant: StreamGrant): string {
  const body = Buffer.from(JSON.stringify([grant.runId, grant.principalId, grant.principalKind, grant.expiresAt])).toString("base64url");
  return `${body}.${sign(secret, body)}`;
}

/** The grant of a token signed with `secret` and not expired at `now`; undefined otherwise. */
export function verifyStreamToken(secret: Buffer, token: string, now: number): StreamGrant | undefined {
  const [body, signature, extra] = token.split(".");
  if (body === undefined || signature === undefined || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as unknown;
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [runId, principalId, principalKind, expiresAt] = value as unknown[];
    if (typeof runId !== "string" || typeof principalId !== "string" || !KINDS.has(principalKind as Principal["kind"]) || typeof expiresAt !== "number") return undefined;
    if (expiresAt <= now) return undefined;
    return { runId, principalId, principalKind: principalKind as Principal["kind"], expiresAt };
  } catch {
    return undefined;
  }
}
