import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCommitment,
  decodeContribute,
  decodeEnvelope,
  decodePayload,
  decodeProgress,
  decodeSessionStart,
  decodeSignal,
  encodeEnvelope,
  encodePayload,
  Envelope,
} from "../src/index.js";
import { expectNothingButInvalidEnvelope } from "./support/macp-error-assertions.js";
import { MessageModel } from "./support/message-model.js";
import { payloadPairs } from "./support/payload-pairs.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const model = new MessageModel(parseProtoTree(PROTO_DIR));
// Core payloads decode the same in every mode, so each distinct binding is fuzzed once.
const pairs = payloadPairs().filter((pair) => pair.mode === "" || !pair.typeName.startsWith("macp.v1."));

interface Decoder {
  readonly name: string;
  readonly decode: (bytes: Uint8Array) => unknown;
  readonly valid: fc.Arbitrary<Uint8Array>;
}

const CONTRIBUTE_JSON = fc.string().map((value) => new TextEncoder().encode(JSON.stringify({ value })));

const decoders: Decoder[] = [
  ...pairs.map((pair) => ({
    name: `decodePayload ${pair.mode || "(no mode)"} ${pair.messageType}`,
    decode: (bytes: Uint8Array) => decodePayload(pair.mode, pair.messageType, bytes),
    valid:
      pair.messageType === "Contribute"
        ? CONTRIBUTE_JSON
        : model.arbitrary(pair.typeName).map((message) => encodePayload(pair.mode, pair.messageType, message)),
  })),
  {
    name: "decodeSessionStart",
    decode: decodeSessionStart,
    valid: model.arbitrary("macp.v1.SessionStartPayload").map((m) => encodePayload("", "SessionStart", m)),
  },
  {
    name: "decodeCommitment",
    decode: decodeCommitment,
    valid: model.arbitrary("macp.v1.CommitmentPayload").map((m) => encodePayload("", "Commitment", m)),
  },
  {
    name: "decodeSignal",
    decode: decodeSignal,
    valid: model.arbitrary("macp.v1.SignalPayload").map((m) => encodePayload("", "Signal", m)),
  },
  {
    name: "decodeProgress",
    decode: decodeProgress,
    valid: model.arbitrary("macp.v1.ProgressPayload").map((m) => encodePayload("", "Progress", m)),
  },
  { name: "decodeContribute", decode: decodeContribute, valid: CONTRIBUTE_JSON },
  {
    name: "decodeEnvelope",
    decode: decodeEnvelope,
    valid: model.typedArbitrary<Envelope>("macp.v1.Envelope").map(encodeEnvelope),
  },
];

// Byte patterns that stress a protobuf reader: tags of every wire type, long varints, lengths.
const wireLikeBytes = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((byte) => [byte]),
      fc.integer({ min: 1, max: 20 }).chain((field) => fc.integer({ min: 0, max: 7 }).map((wire) => [(field << 3) | wire])),
      fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 11 }).map((bytes) => [...bytes, 0x01]),
    ),
    { maxLength: 40 },
  )
  .map((chunks) => Uint8Array.from(chunks.flat()));

describe("decoding truncated or random bytes gives INVALID_ENVELOPE and nothing else", () => {
  it("exercises every decoder (all payload pairs, the kernel helpers, Contribute, Envelope)", () => {
    expect(decoders.length).toBeGreaterThan(30);
  });

  it.each(decoders.map((decoder) => [decoder.name, decoder] as const))("%s", (_, decoder) => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), wireLikeBytes), (bytes) => {
        expectNothingButInvalidEnvelope(() => decoder.decode(bytes));
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(decoder.valid, fc.nat(), (bytes, cut) => {
        expectNothingButInvalidEnvelope(() => decoder.decode(bytes.subarray(0, cut % (bytes.length + 1))));
      }),
      { numRuns: 50 },
    );
  });
});
