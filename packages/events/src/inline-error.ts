import { isMacpErrorCode } from "@macp/protocol";
import { isRecord } from "./json.js";

// Inline StreamSession error frames carry the runtime's variant name (plus `: reasons` for policy
// denials) as their code, not a registry code (protocol.md §4.3).
const INLINE_VARIANT_CODES: Readonly<Record<string, string>> = {
  Forbidden: "FORBIDDEN",
  InvalidEnvelope: "INVALID_ENVELOPE",
  InvalidPayload: "INVALID_ENVELOPE",
  InvalidModeState: "INVALID_ENVELOPE",
  InvalidTtl: "INVALID_ENVELOPE",
  SessionNotOpen: "SESSION_NOT_OPEN",
  TtlExpired: "SESSION_NOT_OPEN",
  UnknownSession: "SESSION_NOT_FOUND",
  UnknownMode: "MODE_NOT_SUPPORTED",
  UnknownPolicyVersion: "UNKNOWN_POLICY_VERSION",
  InvalidMacpVersion: "UNSUPPORTED_PROTOCOL_VERSION",
  PolicyDenied: "POLICY_DENIED",
  DuplicateMessage: "DUPLICATE_MESSAGE",
  PayloadTooLarge: "PAYLOAD_TOO_LARGE",
  RateLimited: "RATE_LIMITED",
};

/** The registry code of an inline error frame's code, or the code itself when it is not recognised. */
export function inlineErrorCode(code: string): string {
  if (isMacpErrorCode(code)) return code;
  const variant = code.split(":", 1)[0]!.trim();
  return INLINE_VARIANT_CODES[variant] ?? code;
}

/**
 * Deny reasons of a `POLICY_DENIED` error: the JSON `details` `{"reasons": [...]}` when present,
 * else the `PolicyDenied: r1; r2` text, else the message itself.
 */
export function policyDenyReasons(code: string, message: string, details: Uint8Array | undefined): string[] {
  if (details !== undefined && details.length > 0) {
    try {
      const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(details));
      if (isRecord(parsed) && Array.isArray(parsed["reasons"])) {
        return parsed["reasons"].filter((r): r is string => typeof r === "string");
      }
    } catch {
      // Not JSON: fall back to the text forms below.
    }
  }
  for (const text of [message, code]) {
    const match = /^PolicyDenied:\s*(.+)$/s.exec(text);
    if (match) return match[1]!.split(";").map((r) => r.trim()).filter((r) => r !== "");
  }
  return message === "" || message === "PolicyDenied" ? [] : [message];
}
