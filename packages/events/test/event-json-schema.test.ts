import { describe, expect, it } from "vitest";
import { CANONICAL_EVENT_TYPES, SUBJECT_KINDS, canonicalEventJsonSchema, isCanonicalEventType, sequenceEvents } from "../src/index.js";

describe("canonical event model", () => {
  it("lists the 28 canonical types of the catalogue, each once", () => {
    expect(CANONICAL_EVENT_TYPES).toHaveLength(28);
    expect(new Set(CANONICAL_EVENT_TYPES).size).toBe(28);
    expect(isCanonicalEventType("decision.finalized")).toBe(true);
    expect(isCanonicalEventType("decision.rewritten")).toBe(false);
  });

  it("JSON schema requires exactly the nested fields and enumerates types and subject kinds", () => {
    const schema = canonicalEventJsonSchema;
    expect(schema.required).toEqual(["id", "runId", "seq", "ts", "type", "schemaVersion", "source", "trace", "data"]);
    expect(schema.properties.type.enum).toEqual([...CANONICAL_EVENT_TYPES]);
    expect(schema.properties.subject.properties.kind.enum).toEqual([...SUBJECT_KINDS]);
    expect(schema.properties.schemaVersion.enum).toEqual([3]);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it("a sequenced event has only the schema's properties and every required one", () => {
    const [event] = sequenceEvents({
      runId: "7d444840-9dc0-11d1-b245-5ffdce74fad2",
      rawKey: "k",
      firstSeq: 1,
      drafts: [{ ts: "2026-12-06T08:00:00.000Z", type: "run.created", schemaVersion: 3, subject: { kind: "run", id: "r" }, source: { kind: "control-plane", name: "macp-control-plane" }, trace: { traceId: "t" }, data: { status: "queued" } }],
    }).events;
    const keys = Object.keys(event!);
    for (const key of keys) expect(Object.keys(canonicalEventJsonSchema.properties)).toContain(key);
    for (const key of canonicalEventJsonSchema.required) expect(keys).toContain(key);
  });
});
