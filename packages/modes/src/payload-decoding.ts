import { decodePayload } from "@macp/protocol";

/**
 * Decodes the payload of `messageType` in `mode` as strictly as the reference runtime (invalid
 * UTF-8, mismatched wire types and the like are `InvalidPayload` → `INVALID_ENVELOPE`). Empty
 * bytes decode to the all-default message on purpose: the field checks then reject it.
 * `T` must be the payload type the protocol binds to that pair.
 */
export function decodeModePayload<T>(mode: string, messageType: string, bytes: Uint8Array): T {
  return decodePayload(mode, messageType, bytes) as T;
}
