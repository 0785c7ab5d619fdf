import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  INT64_MAX,
  INT64_MIN,
  ModeId,
  UINT64_MAX,
  decodeEnvelope,
  decodePayload,
  encodeEnvelope,
  encodePayload,
  encodePayloadJson,
  int64FromJson,
  int64JsonReplacer,
  int64ToJson,
} from "../src/index.js";
import { generatedMessages } from "./support/generated-codecs.js";
import { camelCase } from "./support/message-model.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const files = parseProtoTree(PROTO_DIR);
const codecs = new Map(generatedMessages(files).map((entry) => [entry.fullName, entry.codec]));

/** Every int64/uint64 field of proto/, as `Message.field`. */
const FIELDS = files.flatMap((file) =>
  file.messages.flatMap((message) =>
    message.fields
      .filter((field) => field.type === "int64" || field.type === "uint64")
      .map((field) => ({ message: message.fullName, field: field.name, unsigned: field.type === "uint64" })),
  ),
);

const int64s = fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 2n ** 53n));
const uint64s = fc.oneof(fc.bigInt({ min: 0n, max: UINT64_MAX }), fc.constantFrom(0n, UINT64_MAX, 2n ** 63n, 2n ** 53n));

describe("every int64/uint64 field of the wire schema", () => {
  it("is the known list of fourteen", () => {
    expect(FIELDS.map(({ message, field }) => `${message}.${field}`).sort()).toEqual([
      "macp.modes.task.v1.TaskRequestPayload.deadline_unix_ms",
      "macp.v1.Ack.accepted_at_unix_ms",
      "macp.v1.Envelope.timestamp_unix_ms",
      "macp.v1.ParticipantActivity.last_message_at_unix_ms",
      "macp.v1.PolicyDescriptor.registered_at_unix_ms",
      "macp.v1.RegistryChanged.observed_at_unix_ms",
      "macp.v1.RootsChanged.observed_at_unix_ms",
      "macp.v1.SessionLifecycleEvent.observed_at_unix_ms",
      "macp.v1.SessionMetadata.expires_at_unix_ms",
      "macp.v1.SessionMetadata.started_at_unix_ms",
      "macp.v1.SessionResumePayload.banked_ms",
      "macp.v1.SessionStartPayload.ttl_ms",
      "macp.v1.StreamSessionRequest.after_sequence",
      "macp.v1.WatchPoliciesResponse.observed_at_unix_ms",
    ]);
  });

  it.each(FIELDS.map((entry) => [`${entry.message}.${entry.field}`, entry] as const))(
    "%s round-trips exactly over its whole range",
    (_, { message, field, unsigned }) => {
      const codec = codecs.get(message);
      if (codec === undefined) throw new Error(`no codec for ${message}`);
      const property = camelCase(field);
      fc.assert(
        fc.property(unsigned ? uint64s : int64s, (value) => {
          const decoded = codec.decode(codec.encode({ ...codec.decode(new Uint8Array()), [property]: value }).finish());
          expect(decoded[property]).toBe(value);
        }),
        { numRuns: 200 },
      );
    },
  );

  it("refuses a value outside the field's range instead of wrapping it", () => {
    const envelope = codecs.get("macp.v1.Envelope")!;
    const request = codecs.get("macp.v1.StreamSessionRequest")!;
    expect(() => envelope.encode({ ...envelope.decode(new Uint8Array()), timestampUnixMs: INT64_MAX + 1n })).toThrow();
    expect(() => request.encode({ ...request.decode(new Uint8Array()), afterSequence: -1n })).toThrow();
  });
});

describe("the strict codecs carry 64-bit values exactly", () => {
  it("Envelope.timestamp_unix_ms through encodeEnvelope/decodeEnvelope", () => {
    fc.assert(
      fc.property(int64s, (timestampUnixMs) => {
        expect(decodeEnvelope(encodeEnvelope({ macpVersion: "1.0", timestampUnixMs })).timestampUnixMs).toBe(timestampUnixMs);
      }),
    );
  });

  it.each([
    [ModeId.Task, "TaskRequest", "deadline_unix_ms"],
    [ModeId.Decision, "SessionStart", "ttl_ms"],
  ] as const)("%s %s.%s through encodePayload, encodePayloadJson and decodePayload", (mode, messageType, field) => {
    const property = camelCase(field);
    fc.assert(
      fc.property(int64s, (value) => {
        // Another field keeps the payload non-empty when the value is 0 (an empty SessionStart is refused).
        const other = messageType === "SessionStart" ? { intent: "x" } : { title: "x" };
        const fromObject = encodePayload(mode, messageType, { ...other, [property]: value });
        expect((decodePayload(mode, messageType, fromObject) as Record<string, unknown>)[property]).toBe(value);
        expect(encodePayloadJson(mode, messageType, { ...other, [field]: value.toString() })).toEqual(fromObject);
        expect(encodePayloadJson(mode, messageType, { ...other, [field]: int64ToJson(value) })).toEqual(fromObject);
      }),
    );
  });
});

describe("int64 JSON form", () => {
  it("is a number within ±(2^53 - 1), a decimal string beyond, and reads back exactly", () => {
    fc.assert(
      fc.property(int64s, (value) => {
        const json = int64ToJson(value);
        expect(typeof json).toBe(value >= -(2n ** 53n - 1n) && value <= 2n ** 53n - 1n ? "number" : "string");
        expect(int64FromJson(JSON.parse(JSON.stringify(json)))).toBe(value);
        expect(int64FromJson(JSON.parse(JSON.stringify({ v: value }, int64JsonReplacer)).v)).toBe(value);
      }),
    );
  });

  it.each([
    ["a number beyond 2^53", 2 ** 60],
    ["a fraction", 1.5],
    ["a string beyond i64::MAX", "9223372036854775808"],
    ["a string with a plus sign", "+1"],
    ["a string with leading zeros", "007"],
    ["a boolean", true],
  ])("refuses %s", (_, value) => {
    expect(int64FromJson(value)).toBeUndefined();
  });
});
