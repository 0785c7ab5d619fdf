import { createHash } from "node:crypto";
import { serializeSessionState } from "@macp/core/internal";
import type { SessionReplayState } from "@macp/core";

/** SHA-256 of a session's canonical serialized state: equal hashes mean identical replayable state. */
export function hashSessionState(state: SessionReplayState): string {
  return createHash("sha256").update(serializeSessionState(state)).digest("hex");
}
