import { describe, expect, it } from "vitest";
import {
  corePayloadSchemas,
  decisionPayloadSchemas,
  envelopeSchema,
  handoffPayloadSchemas,
  multiRoundPayloadSchemas,
  proposalPayloadSchemas,
  quorumPayloadSchemas,
  taskPayloadSchemas,
} from "../src/message-schemas.js";
import type { FieldSchema, MessageSchema } from "../src/wire-schema.js";
import { messageFromJson } from "../src/message-from-json.js";
import { generatedMessages } from "./support/generated-codecs.js";
import { MessageModel } from "./support/message-model.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const files = parseProtoTree(PROTO_DIR);
const model = new MessageModel(files);
const codecs = new Map(generatedMessages(files).map((message) => [message.fullName, message.codec]));

function packageOf(typeName: string): string {
  return typeName.slice(0, typeName.lastIndexOf("."));
}

function declared(schema: MessageSchema, field: FieldSchema): { name: string; number: number; type: string; label: string } {
  const type =
    field.kind === "message"
      ? `message ${field.message.typeName.slice(packageOf(schema.typeName).length + 1)}`
      : field.kind === "map"
        ? `map<string, ${field.value}>`
        : field.kind;
  const label = field.kind === "map" ? "map" : field.repeated ? "repeated" : "singular";
  return { name: field.name, number: field.number, type, label };
}

function withNested(schema: MessageSchema): MessageSchema[] {
  return [schema, ...schema.fields.flatMap((field) => (field.kind === "message" ? withNested(field.message) : []))];
}

const topLevel = [
  envelopeSchema,
  ...Object.values(corePayloadSchemas),
  ...Object.values(decisionPayloadSchemas),
  ...Object.values(proposalPayloadSchemas),
  ...Object.values(taskPayloadSchemas),
  ...Object.values(handoffPayloadSchemas),
  ...Object.values(quorumPayloadSchemas),
  ...Object.values(multiRoundPayloadSchemas),
];
const schemas = [...new Map(topLevel.flatMap(withNested).map((schema) => [schema.typeName, schema])).values()];

describe("the hand-written wire schemas equal proto/", () => {
  it.each(schemas.map((schema) => [schema.typeName, schema] as const))("%s", (typeName, schema) => {
    expect(schema.fields.map((field) => declared(schema, field))).toEqual(model.message(typeName).fields);
  });

  it("cover the envelope, Root, CommitmentRef and every payload message", () => {
    expect(schemas).toHaveLength(1 + 2 + 7 + 4 + 5 + 6 + 4 + 4 + 1);
  });

  it.each(schemas.map((schema) => [schema.typeName, schema] as const))(
    "%s: an empty JSON object builds the generated all-default message",
    (typeName, schema) => {
      const codec = codecs.get(typeName);
      expect(codec).toBeDefined();
      expect(messageFromJson(schema, {}, "InvalidPayload")).toEqual(codec?.decode(new Uint8Array()));
    },
  );
});
