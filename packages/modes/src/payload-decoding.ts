import { MacpError } from "@macp/protocol";

/** Any generated protobuf message codec. */
export interface PayloadCodec<T> {
  decode(input: Uint8Array): T;
}

/**
 * Decodes a mode payload; a protobuf decode failure is `INVALID_ENVELOPE` (InvalidPayload).
 * Empty bytes decode to the all-default message on purpose: the field checks then reject it.
 */
export function decodeModePayload<T>(codec: PayloadCodec<T>, bytes: Uint8Array, what: string): T {
  try {
    return codec.decode(bytes);
  } catch {
    throw new MacpError("InvalidPayload", `${what} payload does not decode`);
  }
}
