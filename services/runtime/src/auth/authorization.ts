import { CoreMessageType, MacpError } from "@macp/protocol";
import type { Identity } from "./identity.js";

/**
 * Send-pipeline step 5 (protocol.md §1.1, §5.4): `SessionStart` needs `canStartSessions`, and a
 * mode-restricted identity may only send in its modes. Applies to every message type, so a
 * restricted identity cannot send ambient Signals or Progress (mode `""` is never in the set).
 */
export function authorizeMode(identity: Identity, messageType: string, mode: string): MacpError | undefined {
  if (messageType === CoreMessageType.SessionStart && !identity.canStartSessions) {
    return new MacpError("Forbidden");
  }
  if (identity.allowedModes !== null && !identity.allowedModes.has(mode)) {
    return new MacpError("Forbidden");
  }
  return undefined;
}

/** Gate of the extension-mode and policy registry mutators (§0.1): Status PERMISSION_DENIED `Forbidden`. */
export function authorizeRegistryManagement(identity: Identity): MacpError | undefined {
  return identity.canManageModeRegistry ? undefined : new MacpError("Forbidden");
}

/** The parties of a session that read access is decided against. */
export interface SessionParties {
  readonly initiator: string;
  readonly participants: readonly string[];
}

/**
 * Read access to a session (GetSession, passive subscribe): its initiator, a declared participant,
 * or an observer identity.
 */
export function canReadSession(identity: Identity, session: SessionParties): boolean {
  return (
    identity.isObserver ||
    identity.sender === session.initiator ||
    session.participants.includes(identity.sender)
  );
}
