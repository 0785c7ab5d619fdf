const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Decodes UTF-8 the way the reference runtime (prost, serde_json) does: invalid sequences are an
 * error, never silently replaced, and a leading U+FEFF stays part of the text.
 */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** True when the string has no lone surrogate, i.e. it has an exact UTF-8 encoding. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** UTF-8 bytes of well-formed text. */
export function encodeUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}
