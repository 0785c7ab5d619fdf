import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEnvelope, Envelope, encodeEnvelope } from "../src/index.js";
import { expectMacpError } from "./support/macp-error-assertions.js";
import { MessageModel } from "./support/message-model.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const model = new MessageModel(parseProtoTree(PROTO_DIR));
const envelopes = model.typedArbitrary<Envelope>("macp.v1.Envelope");

function timestampBytes(varint: number[]): Uint8Array {
  return Uint8Array.from([0x0a, 0x03, 0x31, 0x2e, 0x30, 0x38, ...varint]);
}

describe("envelope codec", () => {
  it("round-trips envelopes with every field set, byte-identical to the generated encoder", () => {
    fc.assert(
      fc.property(envelopes, (envelope) => {
        const encoded = encodeEnvelope(envelope);
        expect(encoded).toEqual(Envelope.encode(envelope).finish());
        expect(decodeEnvelope(encoded)).toEqual(envelope);
      }),
    );
  });

  it("fills omitted fields with defaults when encoding", () => {
    expect(decodeEnvelope(encodeEnvelope({ macpVersion: "1.0", messageType: "Signal" }))).toEqual({
      ...Envelope.decode(new Uint8Array()),
      macpVersion: "1.0",
      messageType: "Signal",
    });
  });

  it("round-trips every int64 timestamp exactly, given as bigint, decimal string or safe number", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (timestamp) => {
        expect(decodeEnvelope(encodeEnvelope({ timestampUnixMs: timestamp })).timestampUnixMs).toBe(timestamp);
        const text = timestamp.toString() as unknown as bigint;
        expect(decodeEnvelope(encodeEnvelope({ timestampUnixMs: text })).timestampUnixMs).toBe(timestamp);
      }),
    );
    for (const safe of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1]) {
      const timestampUnixMs = safe as unknown as bigint;
      expect(decodeEnvelope(encodeEnvelope({ timestampUnixMs })).timestampUnixMs).toBe(BigInt(safe));
    }
  });

  it.each([
    ["2^53", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], 2n ** 53n],
    ["2^63 - 1 (i64::MAX)", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 2n ** 63n - 1n],
    ["-2^63 (i64::MIN)", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], -(2n ** 63n)],
    ["-1", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], -1n],
  ])("decodes a timestamp of %s exactly, as the reference does", (_, varint, expected) => {
    const envelope = decodeEnvelope(timestampBytes(varint));
    expect(envelope.timestampUnixMs).toBe(expected);
    expect(encodeEnvelope(envelope)).toEqual(timestampBytes(varint));
  });

  it("rejects an envelope cut anywhere inside its payload", () => {
    fc.assert(
      fc.property(envelopes, fc.nat(), (envelope, cut) => {
        const encoded = encodeEnvelope(envelope);
        const payloadStart = encoded.length - envelope.payload.length;
        const end = payloadStart + (cut % envelope.payload.length);
        expectMacpError(() => decodeEnvelope(encoded.subarray(0, end)), "InvalidEnvelope");
      }),
    );
  });

  it("rejects invalid UTF-8 in a string field", () => {
    expectMacpError(() => decodeEnvelope(Uint8Array.from([0x12, 0x02, 0xc3, 0x28])), "InvalidEnvelope");
  });

  it.each([
    ["a number for a string", { mode: 1 }],
    ["a fractional timestamp", { timestampUnixMs: 1.5 }],
    ["a timestamp number beyond 2^53 (possibly rounded already)", { timestampUnixMs: 2 ** 60 }],
    ["a bigint timestamp beyond i64::MAX", { timestampUnixMs: 2n ** 63n }],
    ["a timestamp string below i64::MIN", { timestampUnixMs: "-9223372036854775809" }],
    ["a hexadecimal timestamp string", { timestampUnixMs: "0x10" }],
    ["a number array for the payload", { payload: [1, 2, 256] }],
    ["an unknown field", { sessionID: "s" }],
  ])("refuses to encode %s", (_, envelope) => {
    expectMacpError(() => encodeEnvelope(envelope as Partial<Envelope>), "InvalidEnvelope");
  });
});
