import { describe, expect, it } from "vitest";
import { parseProtoTree } from "./support/proto-text.js";
import type { ProtoFile } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";
import { specContributePayload, specFiles, specRpcs, specTotals } from "./support/wire-spec.js";

const proto = parseProtoTree(PROTO_DIR);
const protoByPath = new Map(proto.map((file) => [file.path, file]));
const spec = specFiles();
const contribute = specContributePayload();

function protoFile(path: string): ProtoFile {
  const file = protoByPath.get(path);
  if (file === undefined) throw new Error(`proto/${path} is missing`);
  return file;
}

describe("proto/ carries every fact of wire.md", () => {
  it("parses the spec tables completely (103 messages, 2 enums, 24 RPCs)", () => {
    const messages = [...spec.values()].reduce((sum, file) => sum + file.messages.size, 0);
    const enums = [...spec.values()].reduce((sum, file) => sum + file.enums.size, 0);
    expect(spec.size).toBe(8);
    expect([messages, enums]).toEqual(specTotals());
    expect([messages, enums]).toEqual([103, 2]);
    expect(specRpcs()).toHaveLength(24);
    for (const file of spec.values()) {
      expect([file.path, file.messages.size, file.enums.size]).toEqual([file.path, file.countedMessages, file.countedEnums]);
    }
  });

  it("has exactly the spec's files plus the later-revision multi_round file", () => {
    expect(proto.map((file) => file.path).sort()).toEqual([...spec.keys(), contribute.file].sort());
  });

  it.each([...spec.values()].map((file) => [file.path, file] as const))("%s: syntax, package and imports", (path, file) => {
    const actual = protoFile(path);
    expect({ syntax: actual.syntax, package: actual.package, imports: [...actual.imports].sort() }).toEqual({
      syntax: file.syntax,
      package: file.package,
      imports: [...file.imports].sort(),
    });
  });

  it.each([...spec.values()].map((file) => [file.path, file] as const))(
    "%s: every message with every field (number, name, type, label) in order",
    (path, file) => {
      const actual = protoFile(path);
      const messages = Object.fromEntries(actual.messages.map((message) => [message.name, message.fields]));
      expect(messages).toEqual(Object.fromEntries(file.messages));
      expect(actual.messages.map((message) => message.name)).toEqual([...file.messages.keys()]);
    },
  );

  it.each([...spec.values()].map((file) => [file.path, file] as const))("%s: every enum with every value", (path, file) => {
    const actual = protoFile(path);
    expect(Object.fromEntries(actual.enums.map((enumeration) => [enumeration.name, enumeration.values]))).toEqual(
      Object.fromEntries(file.enums),
    );
  });

  it("declares ContributePayload as wire.md §4.4 describes it", () => {
    const file = protoFile(contribute.file);
    expect(file.messages.map((message) => message.fullName)).toEqual([contribute.typeName]);
    expect(file.messages[0]?.fields).toEqual([contribute.field]);
    expect(file.enums).toEqual([]);
  });

  it("declares the 24 RPCs of macp.v1.MACPRuntimeService in order with their streaming kinds", () => {
    const rpcs = proto.flatMap((file) => file.rpcs.map((rpc) => ({ ...rpc, file: file.path, package: file.package })));
    expect(new Set(rpcs.map((rpc) => `${rpc.package}.${rpc.service} in ${rpc.file}`))).toEqual(
      new Set(["macp.v1.MACPRuntimeService in macp/v1/core.proto"]),
    );
    expect(
      rpcs.map((rpc, index) => ({
        number: index + 1,
        name: rpc.name,
        request: rpc.request,
        response: rpc.response,
        clientStreaming: rpc.clientStreaming,
        serverStreaming: rpc.serverStreaming,
      })),
    ).toEqual(specRpcs());
  });
});
