/** Scalar protobuf types that occur in MACP messages. */
export type ScalarKind = "string" | "bytes" | "bool" | "int64" | "uint64" | "uint32" | "double";

interface FieldCommon {
  /** Proto field name (snake_case), as in `.proto` files and conformance JSON. */
  readonly name: string;
  /** Property name in the generated TypeScript message (lowerCamelCase). */
  readonly property: string;
  readonly number: number;
}

/** A singular or repeated scalar field. */
export interface ScalarField extends FieldCommon {
  readonly kind: ScalarKind;
  readonly repeated: boolean;
}

/** A singular or repeated message-typed field. */
export interface MessageField extends FieldCommon {
  readonly kind: "message";
  readonly repeated: boolean;
  readonly message: MessageSchema;
}

/** A `map<string, V>` field; `entry` is its wire-level `key = 1, value = 2` message. */
export interface MapField extends FieldCommon {
  readonly kind: "map";
  readonly repeated: false;
  readonly value: "string" | "bytes";
  readonly entry: MessageSchema;
}

/** One field of a message schema. */
export type FieldSchema = ScalarField | MessageField | MapField;

/**
 * The shape of one protobuf message, enough to check its wire form strictly and to build it
 * from JSON. Hand-written for the messages this package decodes; a test keeps it equal to
 * `proto/`.
 */
export interface MessageSchema {
  /** Fully qualified proto name, e.g. `macp.v1.SessionStartPayload`. */
  readonly typeName: string;
  readonly fields: readonly FieldSchema[];
  readonly byNumber: ReadonlyMap<number, FieldSchema>;
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Declares a message schema from its fields. */
export function messageSchema(typeName: string, fields: readonly FieldSchema[]): MessageSchema {
  return { typeName, fields, byNumber: new Map(fields.map((field) => [field.number, field])) };
}

/** A singular scalar field. */
export function scalar(number: number, name: string, kind: ScalarKind): ScalarField {
  return { name, property: camelCase(name), number, kind, repeated: false };
}

/** A repeated scalar field. */
export function repeatedScalar(number: number, name: string, kind: ScalarKind): ScalarField {
  return { ...scalar(number, name, kind), repeated: true };
}

/** A singular message field. */
export function nested(number: number, name: string, message: MessageSchema): MessageField {
  return { name, property: camelCase(name), number, kind: "message", repeated: false, message };
}

/** A repeated message field. */
export function repeatedNested(number: number, name: string, message: MessageSchema): MessageField {
  return { ...nested(number, name, message), repeated: true };
}

/** A `map<string, value>` field of the message `owner`. */
export function stringMap(
  owner: string,
  number: number,
  name: string,
  value: "string" | "bytes",
): MapField {
  const property = camelCase(name);
  const entryName = `${owner}.${property.charAt(0).toUpperCase()}${property.slice(1)}Entry`;
  const entry = messageSchema(entryName, [scalar(1, "key", "string"), scalar(2, "value", value)]);
  return { name, property, number, kind: "map", repeated: false, value, entry };
}
