/** Longest status message or inline error message the runtime sends, in UTF-8 bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

/** Longest identifier echoed back in an Ack or error frame, in UTF-8 bytes (the largest identifier limit). */
export const MAX_ECHOED_ID_BYTES = 1024;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending in a marker that gives the original size
 * when cut (`…[truncated, 1048576 bytes]`). Cuts fall on character boundaries. Every text a
 * client chose that is echoed in a status, an Ack or an error frame passes here, because an
 * unbounded echo can exceed what the peer accepts in trailers and wedge the connection.
 */
export function boundText(text: string, maxBytes: number): string {
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  const marker = `…[truncated, ${bytes.length} bytes]`;
  let end = Math.max(0, maxBytes - new TextEncoder().encode(marker).length);
  // Step back off UTF-8 continuation bytes so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return new TextDecoder().decode(bytes.subarray(0, end)) + marker;
}
