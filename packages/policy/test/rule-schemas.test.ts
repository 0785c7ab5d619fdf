import { describe, expect, it } from "vitest";
import { validatePolicyDefinition, type JsonValue } from "@macp/policy";
import { readSpecJsonSchema, specJsonSchemaFiles } from "@macp/test-support";

/** The spec's per-mode rule schemas (RFC-MACP-0012), read as they are shipped. */

const MODE_OF_SCHEMA: Readonly<Record<string, string>> = {
  "decision-rules.schema.json": "macp.mode.decision.v1",
  "proposal-rules.schema.json": "macp.mode.proposal.v1",
  "task-rules.schema.json": "macp.mode.task.v1",
  "handoff-rules.schema.json": "macp.mode.handoff.v1",
  "quorum-rules.schema.json": "macp.mode.quorum.v1",
};

interface SchemaNode {
  readonly type?: string;
  readonly enum?: readonly JsonValue[];
  readonly default?: JsonValue;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode;
}

/** One leaf field: where it sits in the rules and the schema describing its value. */
interface SchemaField {
  readonly keys: readonly string[];
  readonly path: string;
  readonly node: SchemaNode;
}

function fieldsOf(node: SchemaNode, keys: readonly string[] = [], path = ""): SchemaField[] {
  if (node.properties !== undefined) {
    return Object.entries(node.properties).flatMap(([key, child]) =>
      fieldsOf(child, [...keys, key], path === "" ? key : `${path}.${key}`),
    );
  }
  if (node.additionalProperties !== undefined) {
    return [{ keys: [...keys, "agent://x"], path: `${path}["agent://x"]`, node: node.additionalProperties }];
  }
  return [{ keys, path, node }];
}

function nest(keys: readonly string[], value: JsonValue): JsonValue {
  return keys.reduceRight<JsonValue>((inner, key) => ({ [key]: inner }), value);
}

/** A value of the wrong JSON type for the field. */
function wrongValue(node: SchemaNode): JsonValue {
  return node.type === "string" ? 7 : "not-a-" + String(node.type);
}

/** A value the schema allows and that passes on its own (no conditional rule triggered). */
function validValue(node: SchemaNode): JsonValue {
  if (node.enum !== undefined) return node.enum[0] ?? null;
  if (node.default !== undefined) return node.default;
  switch (node.type) {
    case "array":
      return ["agent://lead"];
    case "boolean":
      return true;
    default:
      return 1;
  }
}

const schemaFiles = specJsonSchemaFiles("policy");

describe("every field of the spec's policy rule schemas is known to the parser", () => {
  it("covers all five standard modes", () => {
    expect(schemaFiles.sort()).toEqual(Object.keys(MODE_OF_SCHEMA).sort());
  });

  describe.each(schemaFiles)("%s", (file) => {
    const mode = MODE_OF_SCHEMA[file] ?? "";
    const schema = readSpecJsonSchema<SchemaNode>(`policy/${file}`);
    const fields = fieldsOf(schema);

    it.each(fields)("type-checks $path", ({ keys, path, node }) => {
      const rules = nest(keys, wrongValue(node));
      const error = validatePolicyDefinition({ policyId: "p", mode, description: "", rules, schemaVersion: 1 });
      expect(error).toMatch(new RegExp(`^rules do not match schema for mode '${mode}': ${escape(path)}: invalid type: `));
    });

    it.each(fields)("accepts a schema-valid $path", ({ keys, node }) => {
      const rules = nest(keys, validValue(node));
      expect(validatePolicyDefinition({ policyId: "p", mode, description: "", rules, schemaVersion: 1 })).toBeUndefined();
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
