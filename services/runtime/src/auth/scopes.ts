import type { Identity } from "./identity.js";
import { isJsonFields, optionalBoolean, optionalCount, optionalStrings } from "./json-fields.js";

/**
 * Maps a JWT's `sub` and optional `macp_scopes` claim to an identity (protocol.md §5.1). Unlike
 * static tokens, a present `allowed_modes` is taken literally: `[]` forbids every Send.
 * Throws when the claim has the wrong shape; the caller treats that as an invalid token.
 */
export function identityFromJwtClaims(sender: string, scopes: unknown): Identity {
  if (scopes !== undefined && scopes !== null && !isJsonFields(scopes)) {
    throw new Error("macp_scopes must be an object");
  }
  const claim = scopes ?? {};
  const where = "macp_scopes";
  const allowedModes = optionalStrings(claim, "allowed_modes", where);
  return {
    sender,
    allowedModes: allowedModes === undefined ? null : new Set(allowedModes),
    canStartSessions: optionalBoolean(claim, "can_start_sessions", where) ?? true,
    maxOpenSessions: optionalCount(claim, "max_open_sessions", where) ?? null,
    canManageModeRegistry: optionalBoolean(claim, "can_manage_mode_registry", where) ?? false,
    isObserver: optionalBoolean(claim, "is_observer", where) ?? false,
  };
}
