import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import { codecsOf, generatedMessages } from "./support/generated-codecs.js";
import type { AnyCodec } from "./support/generated-codecs.js";
import { camelCase, isDefaultValue, MessageModel } from "./support/message-model.js";
import { parseProtoTree } from "./support/proto-text.js";
import { PROTO_DIR } from "@macp/test-support";

const files = parseProtoTree(PROTO_DIR);
const model = new MessageModel(files);

const MODE_NAMESPACES: Record<string, Record<string, unknown>> = {
  "macp.modes.decision.v1": api.decision,
  "macp.modes.proposal.v1": api.proposal,
  "macp.modes.task.v1": api.task,
  "macp.modes.handoff.v1": api.handoff,
  "macp.modes.quorum.v1": api.quorum,
  "macp.modes.multi_round.v1": api.multiRound,
};

const cases = generatedMessages(files);

function publicCodec(pkg: string, name: string): unknown {
  const namespace = pkg === "macp.v1" ? (api as Record<string, unknown>) : MODE_NAMESPACES[pkg];
  return namespace?.[name];
}

describe("generated message set", () => {
  it("covers every message of proto/ (103 + ContributePayload)", () => {
    expect(cases).toHaveLength(104);
  });

  it.each(cases.map((entry) => [entry.fullName, entry] as const))("%s is exported by the package", (_, entry) => {
    expect(publicCodec(entry.pkg, entry.name)).toBe(entry.codec);
  });

  it("exports no message codec that proto/ does not declare", () => {
    const declared = new Set(cases.filter((entry) => entry.pkg === "macp.v1").map((entry) => entry.name));
    expect([...codecsOf(api as Record<string, unknown>).keys()].filter((name) => !declared.has(name))).toEqual([]);
  });
});

describe("every message round-trips with a non-default value in every field", () => {
  it.each(cases.map((entry) => [entry.fullName, entry] as const))("%s", (fullName, entry) => {
    const codec: AnyCodec = entry.codec;
    const defaults = codec.decode(new Uint8Array());
    const properties = model
      .message(fullName)
      .fields.map((field) => camelCase(field.label.startsWith("oneof ") ? field.label.slice("oneof ".length) : field.name));
    expect(Object.keys(defaults).sort()).toEqual([...new Set(properties)].sort());
    fc.assert(
      fc.property(model.arbitrary(fullName), (message) => {
        for (const key of Object.keys(defaults)) expect(isDefaultValue(message[key]), key).toBe(false);
        expect(codec.decode(codec.encode(message).finish())).toEqual(message);
      }),
      { numRuns: 60 },
    );
  });
});
