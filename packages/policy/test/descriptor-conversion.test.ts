import { describe, expect, it } from "vitest";
import type { PolicyDescriptor } from "@macp/protocol";
import {
  DEFAULT_POLICY,
  policyFromDescriptor,
  policyToDescriptor,
  validatePolicyDefinition,
  type JsonValue,
} from "@macp/policy";

const descriptor = (rules: string, overrides: Partial<PolicyDescriptor> = {}): PolicyDescriptor => ({
  policyId: "policy.p",
  mode: "*",
  description: "d",
  rules,
  schemaVersion: 1,
  registeredAtUnixMs: 1234n,
  ...overrides,
});

const roundTrip = (rules: string): string => policyToDescriptor(policyFromDescriptor(descriptor(rules))).rules;

/** modes-and-policy.md §12.2, byte for byte. */
const DEFAULT_RULES_TEXT =
  '{"commitment":{"authority":"initiator_only","designated_roles":[],"require_vote_quorum":false},"evaluation":{"minimum_confidence":0.0,"required_before_voting":false},"objection_handling":{"critical_severity_vetoes":false,"veto_threshold":1},"voting":{"algorithm":"none","quorum":{"type":"count","value":0}}}';

describe("the default policy", () => {
  it("has the §12.2 identity", () => {
    expect(DEFAULT_POLICY).toMatchObject({
      policyId: "policy.default",
      mode: "*",
      description: "Default policy \u2014 mode built-in rules apply with no additional governance constraints",
      schemaVersion: 1,
    });
  });

  it("serializes its rules exactly as the reference, float 0.0 included", () => {
    expect(policyToDescriptor(DEFAULT_POLICY)).toEqual({
      policyId: "policy.default",
      mode: "*",
      description: DEFAULT_POLICY.description,
      rules: DEFAULT_RULES_TEXT,
      schemaVersion: 1,
      registeredAtUnixMs: 0n,
    });
  });

  it("renders 0.0 as 0 once rebuilt through plain JavaScript JSON (the documented int/float loss)", () => {
    const rebuilt = { ...DEFAULT_POLICY, rules: JSON.parse(JSON.stringify(DEFAULT_POLICY.rules)) as JsonValue };
    expect(policyToDescriptor(rebuilt).rules).toBe(DEFAULT_RULES_TEXT.replace('"minimum_confidence":0.0', '"minimum_confidence":0'));
  });

  it("is deeply frozen", () => {
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.rules)).toBe(true);
  });
});

describe("inbound conversion keeps valid JSON and replaces anything else with {}", () => {
  it.each<{ rules: string; parsed: JsonValue }>([
    { rules: "", parsed: {} },
    { rules: "not json", parsed: {} },
    { rules: '{"voting":', parsed: {} },
    { rules: '{"a":1,}', parsed: {} },
    { rules: "\uFEFF{}", parsed: {} },
    { rules: '{"a":1e400}', parsed: {} },
    { rules: '{"a":"\\ud800"}', parsed: {} },
    { rules: '{"a":"\\udc00\\ud800"}', parsed: {} },
    { rules: `${"[".repeat(128)}${"]".repeat(128)}`, parsed: {} },
    { rules: "{} x", parsed: {} },
    { rules: "[1,2]", parsed: [1, 2] },
    { rules: "null", parsed: null },
    { rules: ' {"a" : [ true , false , null ] } \n', parsed: { a: [true, false, null] } },
    { rules: '{"e":"\\ud83d\\ude00\\u00e9\\/"}', parsed: { e: "\u{1F600}\u00e9/" } },
  ])("rules text $rules", ({ rules, parsed }) => {
    expect(policyFromDescriptor(descriptor(rules)).rules).toEqual(parsed);
  });

  it("accepts nesting just below serde_json's recursion limit", () => {
    const text = `${"[".repeat(127)}${"]".repeat(127)}`;
    expect(policyFromDescriptor(descriptor(text)).rules).not.toEqual({});
  });

  it("takes ids and description verbatim and ignores registered_at", () => {
    expect(policyFromDescriptor(descriptor("{}", { policyId: " p ", mode: "", description: " x " }))).toEqual({
      policyId: " p ",
      mode: "",
      description: " x ",
      rules: {},
      schemaVersion: 1,
    });
  });

  it("keeps a __proto__ key as data", () => {
    const def = policyFromDescriptor(descriptor('{"__proto__":{"polluted":true}}'));
    expect(Object.keys(def.rules as object)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("freezes the parsed rules", () => {
    const def = policyFromDescriptor(descriptor('{"voting":{"weights":{"a":1}}}'));
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen((def.rules as { voting: object }).voting)).toBe(true);
  });
});

describe("outbound conversion re-serializes rules canonically", () => {
  it.each<{ name: string; rules: string; canonical: string }>([
    {
      name: "keys sorted at every level, inside arrays too",
      rules: '{"b":[{"d":1,"c":2}],"a":{"z":1,"y":{"q":0,"p":1}}}',
      canonical: '{"a":{"y":{"p":1,"q":0},"z":1},"b":[{"c":2,"d":1}]}',
    },
    {
      name: "keys sorted by code point (UTF-8 byte order)",
      rules: '{"\\u{1F600}":1,"\\ue000":2,"B":3,"a":4}'.replace("\\u{1F600}", "\u{1F600}"),
      canonical: '{"B":3,"a":4,"\ue000":2,"\u{1F600}":1}',
    },
    {
      name: "integers and floats keep their form",
      rules: '{"int":75,"float":75.0,"trimmed":0.50,"exp":1e2,"neg":-3,"negzero":-0.0,"zero":0}',
      canonical: '{"exp":100.0,"float":75.0,"int":75,"neg":-3,"negzero":-0.0,"trimmed":0.5,"zero":0}',
    },
    {
      name: "floats in Ryu notation",
      rules: '{"a":1E16,"b":1e15,"c":1.5e-7,"d":0.0001,"e":0.00001,"f":123.456,"g":2.5e300,"h":1e-6,"i":-12e17}',
      canonical:
        '{"a":1e16,"b":1000000000000000.0,"c":1.5e-7,"d":0.0001,"e":0.00001,"f":123.456,"g":2.5e300,"h":1e-6,"i":-1.2e18}',
    },
    {
      name: "integer literals beyond u64 become floats",
      rules: '{"big":100000000000000000000,"max":18446744073709551615,"min":-9223372036854775808}',
      canonical: '{"big":1e20,"max":18446744073709551616,"min":-9223372036854775808}',
    },
    {
      name: "later duplicate keys win, with their own number form",
      rules: '{"a":1.0,"a":2,"b":2,"b":1.0}',
      canonical: '{"a":2,"b":1.0}',
    },
    {
      name: "floats inside arrays keep their form",
      rules: '{"x":[1.0,2,[3.0]]}',
      canonical: '{"x":[1.0,2,[3.0]]}',
    },
    {
      name: "strings escaped as serde_json does",
      rules: '{"s":"tab\\tquote\\"slash\\/ctl\\u0001del\\u007f"}',
      canonical: '{"s":"tab\\tquote\\"slash/ctl\\u0001del\u007f"}',
    },
    { name: "empty text", rules: "", canonical: "{}" },
  ])("$name", ({ rules, canonical }) => {
    expect(roundTrip(rules)).toBe(canonical);
  });

  it("always reports registered_at_unix_ms 0", () => {
    expect(policyToDescriptor(policyFromDescriptor(descriptor("{}"))).registeredAtUnixMs).toBe(0n);
  });
});

describe("integer knobs written in float form fail registration, as in serde_json", () => {
  const validate = (mode: string, rules: string): string | undefined =>
    validatePolicyDefinition(policyFromDescriptor(descriptor(rules, { mode })));

  it.each<{ mode: string; rules: string; detail: string }>([
    {
      mode: "*",
      rules: '{"objection_handling":{"veto_threshold":1.0}}',
      detail: "objection_handling.veto_threshold: invalid type: floating point `1.0`, expected an unsigned integer (u32)",
    },
    {
      mode: "macp.mode.proposal.v1",
      rules: '{"counter_proposal":{"max_rounds":1e1}}',
      detail: "counter_proposal.max_rounds: invalid type: floating point `10.0`, expected an unsigned integer (u64)",
    },
    {
      mode: "macp.mode.handoff.v1",
      rules: '{"acceptance":{"implicit_accept_timeout_ms":18446744073709551616}}',
      detail:
        "acceptance.implicit_accept_timeout_ms: invalid type: floating point `1.8446744073709552e19`, expected an unsigned integer (u64)",
    },
  ])("$rules", ({ mode, rules, detail }) => {
    expect(validate(mode, rules)).toBe(`rules do not match schema for mode '${mode}': ${detail}`);
  });

  it.each<{ mode: string; rules: string }>([
    { mode: "*", rules: '{"objection_handling":{"veto_threshold":1}}' },
    { mode: "macp.mode.handoff.v1", rules: '{"acceptance":{"implicit_accept_timeout_ms":18446744073709551615}}' },
    { mode: "*", rules: '{"voting":{"threshold":1,"quorum":{"value":2.0}}}' },
  ])("accepts $rules", ({ mode, rules }) => {
    expect(validate(mode, rules)).toBeUndefined();
  });
});
