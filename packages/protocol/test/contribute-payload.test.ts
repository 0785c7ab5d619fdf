import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeContribute,
  decodePayload,
  encodeContributeProto,
  encodePayload,
  encodePayloadJson,
  ModeId,
  multiRound,
} from "../src/index.js";
import { expectMacpError } from "./support/macp-error-assertions.js";

const utf8 = new TextEncoder();

function json(text: string): Uint8Array {
  return utf8.encode(text);
}

function proto(value: string): Uint8Array {
  return multiRound.ContributePayload.encode({ value }).finish();
}

// A ContributePayload whose bytes are also JSON text: "\n" (tag 1) is JSON whitespace and a
// length of 34 is `"`, so the whole payload reads as a JSON string, not an object.
const PROTO_THAT_IS_A_JSON_STRING = proto(`${"x".repeat(33)}"`);

describe("decodeContribute (README decision 6: JSON first, then protobuf)", () => {
  it.each([
    ["a JSON object with a string value", json('{"value":"option_a"}'), "option_a"],
    ["a JSON object with extra keys", json('{"value":"a","round":3,"note":null}'), "a"],
    ["a JSON object with an empty string value", json('{"value":""}'), ""],
    ["JSON surrounded by whitespace", json(' \n{"value":"a"}\t'), "a"],
    ["JSON with escapes and non-ASCII text", json('{"value":"\\u00e9t\\u00e9 \\ud83d\\ude00 ✓"}'), "été 😀 ✓"],
    ["a protobuf ContributePayload", proto("option_b"), "option_b"],
    ["a protobuf ContributePayload with non-ASCII text", proto("été ✓"), "été ✓"],
    ["a protobuf ContributePayload with unknown fields", Uint8Array.from([...proto("b"), 0x10, 0x01]), "b"],
    ["a protobuf payload that is also JSON text (not an object)", PROTO_THAT_IS_A_JSON_STRING, `${"x".repeat(33)}"`],
  ])("accepts %s", (_, bytes, value) => {
    expect(decodeContribute(bytes)).toEqual({ value });
    expect(decodePayload(ModeId.MultiRound, "Contribute", bytes)).toEqual({ value });
  });

  it.each([
    ["a JSON object with a numeric value", json('{"value":3}')],
    ["a JSON object with a null value", json('{"value":null}')],
    ["a JSON object with an object value", json('{"value":{"text":"a"}}')],
    ["an empty JSON object", json("{}")],
    ["a JSON object with a differently cased key", json('{"Value":"a"}')],
    ["a JSON object whose value is a lone surrogate", json('{"value":"\\ud800"}')],
    ["a JSON array", json('["a"]')],
    ["a JSON string", json('"a"')],
    ["a JSON number", json("3")],
    ["JSON null", json("null")],
    ["JSON true", json("true")],
    ["a JSON object preceded by a byte-order mark", json('\uFEFF{"value":"a"}')],
    ["truncated JSON", json('{"value":"a"')],
    ["empty bytes", new Uint8Array()],
    ["a protobuf ContributePayload with an empty value", proto("")],
    ["protobuf with only unknown fields", Uint8Array.from([0x10, 0x01])],
    ["protobuf with invalid UTF-8 in value", Uint8Array.from([0x0a, 0x01, 0xff])],
    ["invalid UTF-8 that is not protobuf either", Uint8Array.from([0xff, 0xfe])],
    ["plain text", json("option_a")],
  ])("rejects %s with InvalidPayload", (_, bytes) => {
    expectMacpError(() => decodeContribute(bytes), "InvalidPayload");
    expectMacpError(() => decodePayload(ModeId.MultiRound, "Contribute", bytes), "InvalidPayload");
  });

  it("decodes as protobuf a payload that is also a JSON object, but one without a string value", () => {
    // 0x0A 0x7B = field 1, length 123, which reads as "\n{" in JSON; the 123 bytes complete an object.
    const inner = `"k":"${"v".repeat(116)}"}`;
    const bytes = new Uint8Array([0x0a, inner.length, ...new TextEncoder().encode(inner)]);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ k: "v".repeat(116) });
    expect(decodeContribute(bytes)).toEqual({ value: inner });
  });

  it("decodes whatever both encoders produce", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1 }), (value) => {
        expect(decodeContribute(encodePayload(ModeId.MultiRound, "Contribute", { value }))).toEqual({ value });
        expect(decodeContribute(encodePayloadJson(ModeId.MultiRound, "Contribute", { value }))).toEqual({ value });
        expect(decodeContribute(encodeContributeProto({ value }))).toEqual({ value });
      }),
    );
  });
});

describe("Contribute encoders", () => {
  it("encode JSON {\"value\": …} by default, as the conformance vectors and every runtime expect", () => {
    expect(new TextDecoder().decode(encodePayload(ModeId.MultiRound, "Contribute", { value: "a" }))).toBe('{"value":"a"}');
    expect(new TextDecoder().decode(encodePayloadJson(ModeId.MultiRound, "Contribute", { value: "" }))).toBe('{"value":""}');
  });

  it("encode the protobuf form on request", () => {
    expect(encodeContributeProto({ value: "a" })).toEqual(proto("a"));
  });

  it.each([
    ["a missing value", {}],
    ["a numeric value", { value: 3 }],
    ["an unknown field", { value: "a", round: 1 }],
    ["a lone surrogate", { value: "\ud800" }],
  ])("reject %s", (_, input) => {
    expectMacpError(() => encodePayloadJson(ModeId.MultiRound, "Contribute", input), "InvalidPayload");
    expectMacpError(() => encodePayload(ModeId.MultiRound, "Contribute", input), "InvalidPayload");
  });

  it("refuse an empty protobuf value, which would encode to no bytes", () => {
    expectMacpError(() => encodeContributeProto({ value: "" }), "InvalidPayload");
  });
});
