import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { MapField, MessageSchema } from "./wire-schema.js";

const LENGTH_DELIMITED = 2;

function entryOf(field: MapField, bytes: Uint8Array): [string, string | Uint8Array] {
  const reader = new BinaryReader(bytes);
  let key = "";
  let value: string | Uint8Array = field.value === "string" ? "" : new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === 1 && wireType === LENGTH_DELIMITED) key = reader.string();
    else if (number === 2 && wireType === LENGTH_DELIMITED) value = field.value === "string" ? reader.string() : reader.bytes();
    else reader.skip(wireType, number);
  }
  return [key, value];
}

/**
 * Re-reads the top-level map fields of an already validated message into objects whose keys
 * are all own properties. The generated decoder assigns keys with `obj[key] = value`, so a key
 * `__proto__` (legal in MACP, e.g. as an extension name) would replace the map's prototype and
 * vanish from its keys. MACP declares maps only at the top level of the messages decoded here.
 */
export function withOwnMapKeys<T>(message: T, schema: MessageSchema, bytes: Uint8Array): T {
  const maps = new Map<number, MapField>();
  for (const field of schema.fields) if (field.kind === "map") maps.set(field.number, field);
  if (maps.size === 0) return message;
  const rebuilt = new Map<MapField, Record<string, unknown>>([...maps.values()].map((field) => [field, {}]));
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    const field = maps.get(number);
    if (field === undefined || wireType !== LENGTH_DELIMITED) {
      reader.skip(wireType, number);
      continue;
    }
    const [key, value] = entryOf(field, reader.bytes());
    Object.defineProperty(rebuilt.get(field), key, { value, enumerable: true, writable: true, configurable: true });
  }
  const result = { ...message } as Record<string, unknown>;
  for (const [field, entries] of rebuilt) result[field.property] = entries;
  return result as T;
}
