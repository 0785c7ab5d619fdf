/**
 * `@macp/core/internal`: the replay primitives `@macp/replay` builds on (log replay and the
 * canonical session-state serialization). Not covered by semver: use `@macp/replay` instead.
 *
 * @module @macp/core/internal
 */
export { replayLog } from "./session-machine.js";
export { serializeSessionState, deserializeSessionState, bytesToBase64, base64ToBytes } from "./session-record.js";
