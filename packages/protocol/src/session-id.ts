const UUID_CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The SessionStart session-id rule (protocol.md §1.3): a lowercase canonical UUID v4 or v7, or a
 * base64url token of at least 22 characters. A 36-character id containing `-` is judged only as
 * a UUID and never falls through to the base64url rule.
 */
export function isValidSessionId(id: string): boolean {
  if (id.length === 0) return false;
  if (id.length === 36 && id.includes("-")) {
    if (!UUID_CANONICAL.test(id)) return false;
    const version = id[14];
    return version === "4" || version === "7";
  }
  return id.length >= 22 && BASE64URL.test(id);
}
