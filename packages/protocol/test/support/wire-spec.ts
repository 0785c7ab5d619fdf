import { code, plain, readSpec, section, tableBodyRows, tableCells } from "./spec-markdown.js";

/** One row of a wire.md §2 message table. */
export interface SpecField {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly label: string;
}

/** What wire.md §1.1/§2 says about one proto file. */
export interface SpecFile {
  readonly path: string;
  readonly package: string;
  readonly syntax: string;
  readonly imports: string[];
  /** Messages in table order; empty messages have no fields. */
  readonly messages: Map<string, SpecField[]>;
  readonly enums: Map<string, Array<[string, number]>>;
  readonly countedMessages: number;
  readonly countedEnums: number;
}

/** One row of the wire.md §3.1 RPC table. */
export interface SpecRpc {
  readonly number: number;
  readonly name: string;
  readonly request: string;
  readonly response: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
}

/** A (mode, message_type) → payload row of wire.md §4.1/§4.2; `mode` is `*` for core types. */
export interface SpecPayloadRow {
  readonly mode: string;
  readonly messageType: string;
  /** Fully qualified payload type, or the cell text when it names no type. */
  readonly payloadType: string;
}

const wire = readSpec("wire.md");

function fileTable(): Map<string, { package: string; syntax: string; imports: string[] }> {
  const files = new Map<string, { package: string; syntax: string; imports: string[] }>();
  for (const cells of tableBodyRows(section(wire, "### 1.1"))) {
    const path = code(cells[0] ?? "");
    if (path === undefined || !path.endsWith(".proto")) continue;
    const imports = [...(cells[3] ?? "").matchAll(/`([^`]+\.proto)`/g)].map((match) => match[1]!);
    files.set(path, { syntax: cells[1] ?? "", package: plain(cells[2] ?? ""), imports });
  }
  return files;
}

function countTable(): { perFile: Map<string, [number, number]>; total: [number, number] } {
  const perFile = new Map<string, [number, number]>();
  let total: [number, number] = [-1, -1];
  for (const cells of tableBodyRows(section(wire, "### 2.5"))) {
    if (cells.length !== 3) continue;
    const numbers = cells.slice(1).map((cell) => Number(/\d+/.exec(cell)?.[0] ?? Number.NaN));
    const pair: [number, number] = [numbers[0] ?? Number.NaN, numbers[1] ?? Number.NaN];
    const path = code(cells[0]!);
    if (path !== undefined) perFile.set(path, pair);
    else if (cells[0] === "**Total**") total = pair;
  }
  return { perFile, total };
}

/** wire.md §1.1 + §2 + §2.5, keyed by proto file path. */
export function specFiles(): Map<string, SpecFile> {
  const header = fileTable();
  const counts = countTable();
  const files = new Map<string, SpecFile>();
  let current: SpecFile | undefined;
  let currentEnum: Array<[string, number]> | undefined;
  for (const line of section(wire, "## 2.")) {
    const heading = /^#{3,4} [\d.]+ `([^`]+\.proto)` \(package `([^`]+)`\)/.exec(line);
    if (heading !== null) {
      const path = heading[1]!;
      const info = header.get(path);
      const [countedMessages, countedEnums] = counts.perFile.get(path) ?? [Number.NaN, Number.NaN];
      current = {
        path,
        package: heading[2]!,
        syntax: info?.syntax ?? "",
        imports: info?.imports ?? [],
        messages: new Map(),
        enums: new Map(),
        countedMessages,
        countedEnums,
      };
      files.set(path, current);
      currentEnum = undefined;
      continue;
    }
    const enumHeading = /^Enum `([\w.]+)`:/.exec(line);
    if (enumHeading !== null && current !== undefined) {
      currentEnum = [];
      current.enums.set(enumHeading[1]!, currentEnum);
      continue;
    }
    const cells = tableCells(line) ?? [];
    const first = code(cells[0] ?? "");
    if (first === undefined || current === undefined) continue;
    if (cells.length === 2 && currentEnum !== undefined) {
      currentEnum.push([first, Number(cells[1])]);
    } else if (cells.length === 5) {
      currentEnum = undefined;
      const fields = current.messages.get(first) ?? [];
      current.messages.set(first, fields);
      if (cells[1] === "—") continue;
      fields.push({
        number: Number(cells[1]),
        name: plain(cells[2]!),
        type: plain(cells[3]!),
        label: plain(cells[4]!),
      });
    }
  }
  return files;
}

/** The wire.md §2.5 totals row: [messages, enums]. */
export function specTotals(): [number, number] {
  return countTable().total;
}

/** The wire.md §3.1 RPC table. */
export function specRpcs(): SpecRpc[] {
  const streaming: Record<string, [boolean, boolean]> = {
    unary: [false, false],
    "server streaming": [false, true],
    "client streaming": [true, false],
    "bidirectional (stream → stream)": [true, true],
  };
  const rpcs: SpecRpc[] = [];
  for (const cells of tableBodyRows(section(wire, "### 3.1"))) {
    if (!/^\d+$/.test(cells[0] ?? "")) continue;
    const kind = streaming[cells[4] ?? ""];
    if (kind === undefined) throw new Error(`unknown streaming kind "${cells[4]}"`);
    rpcs.push({
      number: Number(cells[0]),
      name: plain(cells[1]!),
      request: plain(cells[2]!),
      response: plain(cells[3]!),
      clientStreaming: kind[0],
      serverStreaming: kind[1],
    });
  }
  return rpcs;
}

/** wire.md §4.1 (core, mode `*`) and §4.2 (per mode) payload rows naming a concrete mode. */
export function specPayloadRows(): SpecPayloadRow[] {
  const rows: SpecPayloadRow[] = [];
  for (const cells of tableBodyRows(section(wire, "### 4.1"))) {
    const messageType = code(cells[0] ?? "");
    if (messageType === undefined) continue;
    rows.push({ mode: "*", messageType, payloadType: plain(cells[1] ?? "") });
  }
  for (const cells of tableBodyRows(section(wire, "### 4.2"))) {
    const mode = code(cells[0] ?? "");
    const messageType = code(cells[1] ?? "");
    if (mode === undefined || messageType === undefined) continue;
    rows.push({ mode, messageType, payloadType: plain(cells[2] ?? "") });
  }
  return rows;
}

/**
 * The later-revision `ContributePayload` facts from wire.md §4.4 prose:
 * type name, file, and its one field.
 */
export function specContributePayload(): { typeName: string; file: string; field: SpecField } {
  const text = wire.replace(/\s+/g, " ");
  const match =
    /`(macp\.modes\.multi_round\.v1\.ContributePayload)` \(file `([^`]+)`, one field `(\w+)`, number (\d+), `(\w+)`\)/.exec(
      text,
    );
  if (match === null) throw new Error("wire.md no longer describes ContributePayload");
  return {
    typeName: match[1]!,
    file: match[2]!,
    field: { name: match[3]!, number: Number(match[4]), type: match[5]!, label: "singular" },
  };
}
