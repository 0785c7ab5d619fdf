import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** A field as declared in a `.proto` file, with its type resolved to wire.md notation. */
export interface ProtoField {
  readonly name: string;
  readonly number: number;
  /** `string`, `message Foo`, `enum Outer.Inner`, `map<string, bytes>`, … (wire.md §2 notation). */
  readonly type: string;
  /** `singular`, `repeated`, `map` or `oneof <name>` (wire.md §2 notation). */
  readonly label: string;
}

/** A message declaration; `name` is dotted for nested declarations. */
export interface ProtoMessage {
  readonly name: string;
  readonly fullName: string;
  readonly fields: ProtoField[];
}

/** An enum declaration with its values in declaration order. */
export interface ProtoEnum {
  readonly name: string;
  readonly fullName: string;
  readonly values: Array<[string, number]>;
}

/** An RPC of a service. */
export interface ProtoRpc {
  readonly service: string;
  readonly name: string;
  readonly request: string;
  readonly response: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
}

/** One parsed `.proto` file. */
export interface ProtoFile {
  readonly path: string;
  readonly syntax: string;
  readonly package: string;
  readonly imports: string[];
  readonly messages: ProtoMessage[];
  readonly enums: ProtoEnum[];
  readonly rpcs: ProtoRpc[];
}

const SCALARS = new Set([
  "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
  "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
]);

interface RawField {
  readonly name: string;
  readonly number: number;
  readonly typeName: string;
  readonly label: string;
  readonly scope: string;
}

function tokenize(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  return withoutComments.match(/"[^"]*"|[A-Za-z_][\w.]*|-?\d+|[{}()<>;=,[\]]/g) ?? [];
}

class Parser {
  private index = 0;
  readonly messages: Array<{ name: string; fields: RawField[] }> = [];
  readonly enums: ProtoEnum[] = [];
  readonly rpcs: ProtoRpc[] = [];
  syntax = "";
  package = "";
  readonly imports: string[] = [];

  constructor(private readonly tokens: string[]) {}

  private next(): string {
    const token = this.tokens[this.index++];
    if (token === undefined) throw new Error("unexpected end of .proto file");
    return token;
  }

  private peek(): string | undefined {
    return this.tokens[this.index];
  }

  private expect(token: string): void {
    const actual = this.next();
    if (actual !== token) throw new Error(`expected "${token}", got "${actual}"`);
  }

  private skipStatement(): void {
    while (this.next() !== ";");
  }

  file(): void {
    while (this.peek() !== undefined) {
      const keyword = this.next();
      if (keyword === "syntax") {
        this.expect("=");
        this.syntax = this.next().slice(1, -1);
        this.expect(";");
      } else if (keyword === "package") {
        this.package = this.next();
        this.expect(";");
      } else if (keyword === "import") {
        this.imports.push(this.next().slice(1, -1));
        this.expect(";");
      } else if (keyword === "message") {
        this.message("");
      } else if (keyword === "enum") {
        this.enumeration("");
      } else if (keyword === "service") {
        this.service();
      } else {
        this.skipStatement();
      }
    }
  }

  private message(outer: string): void {
    const name = outer === "" ? this.next() : `${outer}.${this.next()}`;
    const fields: RawField[] = [];
    this.messages.push({ name, fields });
    this.expect("{");
    while (this.peek() !== "}") {
      const token = this.next();
      if (token === "message") this.message(name);
      else if (token === "enum") this.enumeration(name);
      else if (token === "oneof") {
        const oneof = this.next();
        this.expect("{");
        while (this.peek() !== "}") fields.push(this.field(this.next(), `oneof ${oneof}`, name));
        this.expect("}");
      } else if (token === "repeated") fields.push(this.field(this.next(), "repeated", name));
      else if (token === "map") {
        this.expect("<");
        const key = this.next();
        this.expect(",");
        const value = this.next();
        this.expect(">");
        fields.push(this.field(`map<${key}, ${value}>`, "map", name));
      } else if (token === ";" || token === "option" || token === "reserved") {
        if (token !== ";") this.skipStatement();
      } else fields.push(this.field(token, "singular", name));
    }
    this.expect("}");
  }

  private field(typeName: string, label: string, scope: string): RawField {
    const name = this.next();
    this.expect("=");
    const number = Number(this.next());
    if (this.peek() === "[") while (this.next() !== "]");
    this.expect(";");
    return { name, number, typeName, label, scope };
  }

  private enumeration(outer: string): void {
    const name = outer === "" ? this.next() : `${outer}.${this.next()}`;
    const values: Array<[string, number]> = [];
    this.expect("{");
    while (this.peek() !== "}") {
      const valueName = this.next();
      if (valueName === "option" || valueName === "reserved") {
        this.skipStatement();
        continue;
      }
      this.expect("=");
      values.push([valueName, Number(this.next())]);
      this.expect(";");
    }
    this.expect("}");
    this.enums.push({ name, fullName: `${this.package}.${name}`, values });
  }

  private service(): void {
    const service = this.next();
    this.expect("{");
    while (this.peek() !== "}") {
      this.expect("rpc");
      const name = this.next();
      this.expect("(");
      const clientStreaming = this.peek() === "stream";
      if (clientStreaming) this.next();
      const request = this.next();
      this.expect(")");
      this.expect("returns");
      this.expect("(");
      const serverStreaming = this.peek() === "stream";
      if (serverStreaming) this.next();
      const response = this.next();
      this.expect(")");
      if (this.peek() === "{") {
        while (this.next() !== "}");
        if (this.peek() === ";") this.next();
      } else this.expect(";");
      this.rpcs.push({ service, name, request, response, clientStreaming, serverStreaming });
    }
    this.expect("}");
  }
}

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".proto"))
    .map((path) => join(dir, path))
    .sort();
}

/**
 * Parses every `.proto` file under `dir` and resolves field types across the whole set
 * (nested scope first, then package), rendering them in wire.md's notation.
 */
export function parseProtoTree(dir: string): ProtoFile[] {
  const parsed = protoFiles(dir).map((path) => {
    const parser = new Parser(tokenize(readFileSync(path, "utf8")));
    parser.file();
    return { path: relative(dir, path).split("\\").join("/"), parser };
  });
  const kinds = new Map<string, "message" | "enum">();
  for (const { parser } of parsed) {
    for (const message of parser.messages) kinds.set(`${parser.package}.${message.name}`, "message");
    for (const enumeration of parser.enums) kinds.set(enumeration.fullName, "enum");
  }
  const resolveType = (pkg: string, scope: string, typeName: string): string => {
    if (SCALARS.has(typeName) || typeName.startsWith("map<")) return typeName;
    const scopes = scope.split(".").map((_, index, parts) => parts.slice(0, parts.length - index).join("."));
    for (const candidate of [...scopes.map((outer) => `${pkg}.${outer}.${typeName}`), `${pkg}.${typeName}`, typeName]) {
      const kind = kinds.get(candidate);
      if (kind !== undefined) {
        const local = candidate.startsWith(`${pkg}.`) ? candidate.slice(pkg.length + 1) : candidate;
        return `${kind} ${local}`;
      }
    }
    throw new Error(`unresolved type ${typeName} in ${pkg}.${scope}`);
  };
  return parsed.map(({ path, parser }) => ({
    path,
    syntax: parser.syntax,
    package: parser.package,
    imports: parser.imports,
    enums: parser.enums,
    rpcs: parser.rpcs,
    messages: parser.messages.map((message) => ({
      name: message.name,
      fullName: `${parser.package}.${message.name}`,
      fields: message.fields.map((field) => ({
        name: field.name,
        number: field.number,
        type: resolveType(parser.package, field.scope, field.typeName),
        label: field.label,
      })),
    })),
  }));
}
