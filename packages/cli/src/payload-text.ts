import {
  CoreMessageType,
  SessionCancelPayload,
  SessionResumePayload,
  SessionSuspendPayload,
  decodePayload,
  int64ToJson,
} from "@macp/protocol";

/** Longest payload text shown in a table cell. */
const TABLE_CELL_TEXT = 100;

const INTERNAL_DECODERS: Readonly<Record<string, (bytes: Uint8Array) => unknown>> = {
  [CoreMessageType.SessionCancel]: (bytes) => SessionCancelPayload.decode(bytes),
  [CoreMessageType.SessionSuspend]: (bytes) => SessionSuspendPayload.decode(bytes),
  [CoreMessageType.SessionResume]: (bytes) => SessionResumePayload.decode(bytes),
};

/**
 * A one-line reading of a payload for people: the decoded message as compact JSON when the
 * mode and type name a known payload, the text of UTF-8 payloads (extension modes, policy
 * bindings), otherwise its size. Cut to `maxLength` characters (a table cell's width by default).
 */
export function payloadText(mode: string, messageType: string, bytes: Uint8Array, maxLength = TABLE_CELL_TEXT): string {
  if (bytes.length === 0) return "";
  return shorten(decoded(mode, messageType, bytes) ?? utf8Text(bytes) ?? `<${bytes.length} bytes>`, maxLength);
}

function decoded(mode: string, messageType: string, bytes: Uint8Array): string | undefined {
  try {
    const internal = INTERNAL_DECODERS[messageType];
    return JSON.stringify(internal ? internal(bytes) : decodePayload(mode, messageType, bytes), bytesAsText);
  } catch {
    // Opaque extension-mode payloads and runtime records without a payload type are shown raw.
    return undefined;
  }
}

function bytesAsText(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return int64ToJson(value);
  if (!(value instanceof Uint8Array)) return value;
  return utf8Text(value) ?? `<${value.length} bytes>`;
}

function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return hasControlCharacters(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/** Control characters other than whitespace mark binary data that happens to be valid UTF-8. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && (code < 0x09 || code > 0x0d)) return true;
  }
  return false;
}

function shorten(text: string, maxLength: number): string {
  const line = text.replace(/\s+/g, " ");
  return line.length <= maxLength ? line : `${line.slice(0, maxLength - 1)}…`;
}
