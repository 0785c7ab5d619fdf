import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CoreMessageType,
  decodeCommitment,
  decodePayload,
  decodeProgress,
  decodeSessionStart,
  decodeSignal,
  encodePayload,
  encodePayloadJson,
  ModeId,
} from "../src/index.js";
import { generatedMessages } from "./support/generated-codecs.js";
import type { AnyCodec } from "./support/generated-codecs.js";
import { expectMacpError } from "./support/macp-error-assertions.js";
import { MessageModel } from "./support/message-model.js";
import { payloadPairs } from "./support/payload-pairs.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const files = parseProtoTree(PROTO_DIR);
const model = new MessageModel(files);
const codecs = new Map(generatedMessages(files).map((message) => [message.fullName, message.codec]));
const pairs = payloadPairs();
const protobufPairs = pairs.filter((pair) => pair.messageType !== "Contribute");

function codecOf(typeName: string): AnyCodec {
  const codec = codecs.get(typeName);
  if (codec === undefined) throw new Error(`no codec for ${typeName}`);
  return codec;
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

describe("every protobuf payload of every mode round-trips", () => {
  it("covers the 23 protobuf mode payloads, 6 mode Commitments and 7 core payloads in 7 modes", () => {
    expect(protobufPairs.filter((pair) => !pair.typeName.startsWith("macp.v1."))).toHaveLength(23);
    expect(protobufPairs.filter((pair) => pair.typeName.startsWith("macp.v1."))).toHaveLength(7 * 7 + 6);
  });

  it.each(protobufPairs.map((pair) => [`${pair.mode || "(no mode)"} ${pair.messageType}`, pair] as const))(
    "%s: encodePayload, encodePayloadJson and decodePayload agree with the generated codec",
    (_, pair) => {
      const codec = codecOf(pair.typeName);
      fc.assert(
        fc.property(model.arbitrary(pair.typeName), (message) => {
          const encoded = encodePayload(pair.mode, pair.messageType, message);
          expect(encoded).toEqual(codec.encode(message).finish());
          expect(decodePayload(pair.mode, pair.messageType, encoded)).toEqual(message);
          const json = model.toProtoJson(pair.typeName, message);
          expect(encodePayloadJson(pair.mode, pair.messageType, json)).toEqual(encoded);
        }),
        { numRuns: 30 },
      );
    },
  );
});

describe("typed kernel decoders", () => {
  const helpers = [
    ["SessionStart", decodeSessionStart],
    ["Commitment", decodeCommitment],
    ["Signal", decodeSignal],
    ["Progress", decodeProgress],
  ] as const;

  it.each(helpers)("decode%s round-trips encodePayload", (messageType, decode) => {
    const typeName = `macp.v1.${messageType}Payload`;
    fc.assert(
      fc.property(model.arbitrary(typeName), (message) => {
        expect(decode(encodePayload(ModeId.Decision, messageType, message))).toEqual(message);
      }),
      { numRuns: 30 },
    );
  });

  it("rejects an empty SessionStart payload, through the helper and through decodePayload", () => {
    expectMacpError(() => decodeSessionStart(new Uint8Array()), "InvalidPayload");
    expectMacpError(() => decodePayload(ModeId.Task, CoreMessageType.SessionStart, new Uint8Array()), "InvalidPayload");
  });

  it.each([
    ["Commitment", decodeCommitment],
    ["Signal", decodeSignal],
    ["Progress", decodeProgress],
  ] as const)("decodes an empty %s payload to the all-default message", (messageType, decode) => {
    expect(decode(new Uint8Array())).toEqual(codecOf(`macp.v1.${messageType}Payload`).decode(new Uint8Array()));
  });
});

interface StrictCase {
  readonly name: string;
  readonly mode: string;
  readonly messageType: string;
  readonly bytes: Uint8Array;
}

const VOTE = { mode: ModeId.Decision, messageType: "Vote" };
const START = { mode: ModeId.Decision, messageType: "SessionStart" };
const TEN_CONTINUATION_BYTES = Array.from({ length: 10 }, () => 0xff);
const NINE_CONTINUATION_BYTES = Array.from({ length: 9 }, () => 0xff);

const malformed: StrictCase[] = [
  { name: "field number 0", ...VOTE, bytes: bytes(0x00) },
  { name: "wire type 6", ...VOTE, bytes: bytes(0x0e) },
  { name: "wire type 7", ...VOTE, bytes: bytes(0x0f) },
  { name: "a stray end-group tag", ...VOTE, bytes: bytes(0x0c) },
  { name: "a tag beyond 32 bits", ...VOTE, bytes: bytes(0x80, 0x80, 0x80, 0x80, 0x10) },
  { name: "a truncated tag", ...VOTE, bytes: bytes(0x80) },
  { name: "a known string field sent as a varint", ...VOTE, bytes: bytes(0x08, 0x01) },
  { name: "invalid UTF-8 in a string", ...VOTE, bytes: bytes(0x0a, 0x01, 0xff) },
  { name: "an overlong UTF-8 sequence", ...VOTE, bytes: bytes(0x0a, 0x02, 0xc0, 0x80) },
  { name: "a UTF-8 encoded surrogate", ...VOTE, bytes: bytes(0x0a, 0x03, 0xed, 0xa0, 0x80) },
  { name: "a length running past the end", ...VOTE, bytes: bytes(0x0a, 0x05, 0x61) },
  { name: "a truncated varint in an unknown field", ...VOTE, bytes: bytes(0x78, 0x80) },
  { name: "a varint longer than 10 bytes", ...VOTE, bytes: bytes(0x78, ...TEN_CONTINUATION_BYTES, 0x01) },
  { name: "a varint overflowing 64 bits", ...VOTE, bytes: bytes(0x78, ...NINE_CONTINUATION_BYTES, 0x02) },
  { name: "a truncated fixed64 unknown field", ...VOTE, bytes: bytes(0x79, 1, 2, 3) },
  { name: "a truncated fixed32 unknown field", ...VOTE, bytes: bytes(0x7d, 1) },
  { name: "an unterminated group", ...VOTE, bytes: bytes(0x7b, 0x08, 0x01) },
  { name: "a group closed by another field's end-group", ...VOTE, bytes: bytes(0x7b, 0x84, 0x01) },
  { name: "a map entry with a non-UTF-8 key", ...START, bytes: bytes(0x4a, 0x03, 0x0a, 0x01, 0xff) },
  { name: "a nested root with a string sent as fixed32", ...START, bytes: bytes(0x3a, 0x05, 0x0d, 1, 2, 3, 4) },
  {
    name: "a nested message truncated inside",
    mode: ModeId.Quorum,
    messageType: "Commitment",
    bytes: bytes(0x4a, 0x03, 0x0a, 0x05, 0x61),
  },
  {
    name: "a singular uint32 sent length-delimited",
    mode: ModeId.Quorum,
    messageType: "ApprovalRequest",
    bytes: bytes(0x2a, 0x00),
  },
  { name: "a double sent as fixed32", mode: "", messageType: "Signal", bytes: bytes(0x1d, 0, 0, 0, 0) },
];

describe("protobuf payload decoding is as strict as the reference runtime's", () => {
  it.each(malformed.map((entry) => [entry.name, entry] as const))("rejects %s", (_, entry) => {
    expectMacpError(() => decodePayload(entry.mode, entry.messageType, entry.bytes), "InvalidPayload");
  });

  const voteDefaults = { proposalId: "", vote: "", reason: "" };
  const wellFormed = [
    {
      name: "skips unknown varint, fixed64, fixed32, length-delimited and group fields",
      bytes: bytes(
        0x0a, 0x02, ...ascii("p1"),
        0x78, 0x01,
        0x79, 1, 2, 3, 4, 5, 6, 7, 8,
        0x7d, 1, 2, 3, 4,
        0x7a, 0x01, 0x00,
        0x7b, 0x08, 0x01, 0x7b, 0x7c, 0x7c,
        0x12, 0x07, ...ascii("APPROVE"),
      ),
      expected: { ...voteDefaults, proposalId: "p1", vote: "APPROVE" },
    },
    {
      name: "keeps the last value of a repeated singular field",
      bytes: bytes(0x0a, 0x01, ...ascii("a"), 0x0a, 0x01, ...ascii("b")),
      expected: { ...voteDefaults, proposalId: "b" },
    },
    {
      name: "keeps a leading U+FEFF as text",
      bytes: bytes(0x0a, 0x03, 0xef, 0xbb, 0xbf),
      expected: { ...voteDefaults, proposalId: "\uFEFF" },
    },
    { name: "decodes empty bytes to the all-default message", bytes: bytes(), expected: voteDefaults },
  ];

  it.each(wellFormed.map((entry) => [entry.name, entry] as const))("%s", (_, entry) => {
    expect(decodePayload(VOTE.mode, VOTE.messageType, entry.bytes)).toEqual(entry.expected);
  });

  it("reads a bool from a multi-byte varint", () => {
    expect(decodePayload(ModeId.Proposal, "Reject", bytes(0x10, 0x80, 0x01))).toEqual({
      proposalId: "",
      terminal: true,
      reason: "",
    });
  });
});

describe("encodePayload", () => {
  it("fills omitted fields with defaults", () => {
    const encoded = encodePayload(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE" });
    expect(decodePayload(ModeId.Decision, "Vote", encoded)).toEqual({ proposalId: "p1", vote: "APPROVE", reason: "" });
  });

  it.each([
    ["a number for a string", "Vote", { proposalId: 1 }],
    ["an unknown field", "Vote", { proposalId: "p1", weight: 2 }],
    ["a string for a message", "Commitment", { supersedes: "c0" }],
    ["an array", "Vote", []],
    ["null", "Vote", null],
    ["a string", "Vote", "p1"],
  ])("rejects %s", (_, messageType, value) => {
    expectMacpError(() => encodePayload(ModeId.Decision, messageType, value), "InvalidPayload");
  });

  it("rejects a pair without a payload type", () => {
    expectMacpError(() => encodePayload(ModeId.Decision, "Contribute", { value: "a" }), "InvalidPayload");
    expectMacpError(() => encodePayloadJson("com.example.mode.custom.v1", "Custom", {}), "InvalidPayload");
  });
});
