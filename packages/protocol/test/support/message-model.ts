import fc from "fast-check";
import type { ProtoField, ProtoFile, ProtoMessage } from "./proto-text.js";

type Value = Record<string, unknown>;

/** The generated-code property name of a proto field (ts-proto `snakeToCamel`). */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

const SCALAR_ARBITRARIES: Record<string, fc.Arbitrary<unknown>> = {
  string: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  bool: fc.constant(true),
  // The whole 64-bit ranges, extremes included: the generated code and the codecs carry bigint.
  int64: fc
    .oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, -1n))
    .filter((value) => value !== 0n),
  uint64: fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.constant(2n ** 64n - 1n)),
  uint32: fc.integer({ min: 1, max: 0xffff_ffff }),
  double: fc.double().filter((value) => value !== 0),
};

/** True for a proto3 default: `""`, `0`/`-0`/`0n`, `false`, empty bytes/list/map, absent message. */
export function isDefaultValue(value: unknown): boolean {
  if (value === undefined || value === "" || value === 0 || value === 0n || value === false) return true;
  if (value instanceof Uint8Array || Array.isArray(value)) return value.length === 0;
  if (typeof value === "object" && value !== null) return Object.keys(value).length === 0;
  return false;
}

/**
 * The messages of a parsed proto tree, with value generators that put a non-default value in
 * every field (so a round trip exercises every field's encoding) and a proto-JSON renderer.
 */
export class MessageModel {
  private readonly messages = new Map<string, { message: ProtoMessage; pkg: string }>();
  private readonly enums = new Map<string, number[]>();
  private readonly arbitraries = new Map<string, fc.Arbitrary<Value>>();

  constructor(files: readonly ProtoFile[]) {
    for (const file of files) {
      for (const message of file.messages) this.messages.set(message.fullName, { message, pkg: file.package });
      for (const enumeration of file.enums) {
        this.enums.set(enumeration.fullName, enumeration.values.map(([, number]) => number));
      }
    }
  }

  /** Full names of every declared message. */
  messageNames(): string[] {
    return [...this.messages.keys()];
  }

  /** The declaration of a message. */
  message(fullName: string): ProtoMessage {
    const entry = this.messages.get(fullName);
    if (entry === undefined) throw new Error(`unknown message ${fullName}`);
    return entry.message;
  }

  /** Generated-code shaped values of `fullName` with every field non-default. */
  arbitrary(fullName: string): fc.Arbitrary<Value> {
    const cached = this.arbitraries.get(fullName);
    if (cached !== undefined) return cached;
    const { message, pkg } = this.entry(fullName);
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    const oneofs = new Map<string, ProtoField[]>();
    for (const field of message.fields) {
      if (field.label.startsWith("oneof ")) {
        const group = field.label.slice("oneof ".length);
        oneofs.set(group, [...(oneofs.get(group) ?? []), field]);
      } else {
        record[camelCase(field.name)] = this.fieldArbitrary(pkg, field);
      }
    }
    for (const [group, members] of oneofs) {
      record[camelCase(group)] = fc.oneof(
        ...members.map((member) =>
          this.singleArbitrary(pkg, member.type).map((value) => ({ $case: camelCase(member.name), value })),
        ),
      );
    }
    const arbitrary = fc.record(record) as fc.Arbitrary<Value>;
    this.arbitraries.set(fullName, arbitrary);
    return arbitrary;
  }

  /** {@link arbitrary} typed as the generated interface `T` of that message. */
  typedArbitrary<T>(fullName: string): fc.Arbitrary<T> {
    return this.arbitrary(fullName) as unknown as fc.Arbitrary<T>;
  }

  /** Renders a generated-code value as proto-JSON input: proto names, bytes as byte arrays. */
  toProtoJson(fullName: string, value: Value): Value {
    const { message, pkg } = this.entry(fullName);
    const json: Value = {};
    for (const field of message.fields) {
      const fieldValue = value[camelCase(field.name)];
      if (field.label === "repeated") {
        json[field.name] = (fieldValue as unknown[]).map((item) => this.jsonValue(pkg, field.type, item));
      } else if (field.label === "singular" || field.label === "map") {
        json[field.name] = this.jsonValue(pkg, field.type, fieldValue);
      }
    }
    return json;
  }

  private entry(fullName: string): { message: ProtoMessage; pkg: string } {
    const entry = this.messages.get(fullName);
    if (entry === undefined) throw new Error(`unknown message ${fullName}`);
    return entry;
  }

  private jsonValue(pkg: string, type: string, value: unknown): unknown {
    if (type.startsWith("message ")) return this.toProtoJson(`${pkg}.${type.slice(8)}`, value as Value);
    if (type === "bytes") return Array.from(value as Uint8Array);
    // proto3 JSON writes 64-bit integers as decimal strings.
    if (typeof value === "bigint") return value.toString();
    const map = /^map<string, (\w+)>$/.exec(type);
    if (map !== null) {
      return Object.fromEntries(
        Object.entries(value as Value).map(([key, item]) => [key, this.jsonValue(pkg, map[1]!, item)]),
      );
    }
    return value;
  }

  private fieldArbitrary(pkg: string, field: ProtoField): fc.Arbitrary<unknown> {
    if (field.label === "repeated") return fc.array(this.singleArbitrary(pkg, field.type), { minLength: 1, maxLength: 3 });
    return this.singleArbitrary(pkg, field.type);
  }

  private singleArbitrary(pkg: string, type: string): fc.Arbitrary<unknown> {
    const scalar = SCALAR_ARBITRARIES[type];
    if (scalar !== undefined) return scalar;
    if (type.startsWith("message ")) return this.arbitrary(`${pkg}.${type.slice(8)}`);
    if (type.startsWith("enum ")) {
      const numbers = (this.enums.get(`${pkg}.${type.slice(5)}`) ?? []).filter((number) => number !== 0);
      return fc.constantFrom(...numbers);
    }
    const map = /^map<string, (\w+)>$/.exec(type);
    if (map !== null) {
      const key = fc.string({ maxLength: 8 }).filter((text) => text !== "__proto__");
      return fc.dictionary(key, this.singleArbitrary(pkg, map[1]!), { minKeys: 1, maxKeys: 3, noNullPrototype: true });
    }
    throw new Error(`no generator for type ${type}`);
  }
}
