import { describe, expect, it } from "vitest";
import { MacpError, int64JsonReplacer, type PolicyDescriptor } from "@macp/protocol";
import {
  DEFAULT_POLICY,
  PolicyRegistry,
  policyFromDescriptor,
  policyToDescriptor,
  type PolicyDefinition,
} from "@macp/policy";

const descriptor = (policyId: string, overrides: Partial<PolicyDescriptor> = {}): PolicyDescriptor => ({
  policyId,
  mode: "macp.mode.decision.v1",
  description: `policy ${policyId}`,
  rules: '{"voting":{"algorithm":"majority"}}',
  schemaVersion: 1,
  registeredAtUnixMs: 99n,
  ...overrides,
});

const ids = (defs: readonly PolicyDefinition[]): string[] => defs.map((def) => def.policyId);

/** A registry with a policy per mode, registered out of order. */
function populated(): PolicyRegistry {
  const registry = new PolicyRegistry();
  registry.register(descriptor("z.task", { mode: "macp.mode.task.v1", rules: "{}" }));
  registry.register(descriptor("a.decision"));
  registry.register(descriptor("m.any", { mode: "*" }));
  registry.register(descriptor("b.ext", { mode: "ext.custom.v1", rules: '{"anything":[1]}' }));
  return registry;
}

describe("a new registry", () => {
  it("holds exactly the default policy", () => {
    const registry = new PolicyRegistry();
    expect(registry.list()).toEqual([DEFAULT_POLICY]);
    expect(registry.get("policy.default")).toBe(DEFAULT_POLICY);
    expect(registry.exportRegistered()).toEqual([]);
  });
});

describe("register", () => {
  it("stores a valid policy and reports ok", () => {
    const registry = new PolicyRegistry();
    expect(registry.register(descriptor("p1"))).toEqual({ ok: true, error: "" });
    expect(registry.get("p1")).toEqual({
      policyId: "p1",
      mode: "macp.mode.decision.v1",
      description: "policy p1",
      rules: { voting: { algorithm: "majority" } },
      schemaVersion: 1,
    });
  });

  it.each<{ name: string; desc: PolicyDescriptor; error: string }>([
    { name: "the reserved id", desc: descriptor("policy.default"), error: "cannot register with reserved policy_id 'policy.default'" },
    { name: "a blank id", desc: descriptor("  "), error: "policy_id must not be empty" },
    { name: "schema version 0", desc: descriptor("p", { schemaVersion: 0 }), error: "schema_version must be > 0" },
    { name: "non-object rules", desc: descriptor("p", { rules: "[]" }), error: "rules must be a JSON object" },
    {
      name: "rules of the wrong shape",
      desc: descriptor("p", { rules: '{"voting":{"algorithm":7}}' }),
      error: "rules do not match schema for mode 'macp.mode.decision.v1': voting.algorithm: invalid type: integer `7`, expected a string",
    },
  ])("refuses $name", ({ desc, error }) => {
    const registry = new PolicyRegistry();
    expect(registry.register(desc)).toEqual({ ok: false, error });
    expect(registry.list()).toEqual([DEFAULT_POLICY]);
  });

  it("refuses a duplicate id after validation passes, keeping the first", () => {
    const registry = new PolicyRegistry();
    registry.register(descriptor("p1"));
    expect(registry.register(descriptor("p1", { rules: "{}" }))).toEqual({
      ok: false,
      error: "policy 'p1' is already registered",
    });
    expect(registry.get("p1")?.rules).toEqual({ voting: { algorithm: "majority" } });
  });

  it("reports validation errors before the duplicate check", () => {
    const registry = new PolicyRegistry();
    registry.register(descriptor("p1"));
    expect(registry.register(descriptor("p1", { schemaVersion: 0 })).error).toBe("schema_version must be > 0");
  });

  it("registers unparseable rules text as empty rules", () => {
    const registry = new PolicyRegistry();
    expect(registry.register(descriptor("p1", { rules: "{oops" }))).toEqual({ ok: true, error: "" });
    expect(registry.get("p1")?.rules).toEqual({});
  });

  it("stores frozen definitions", () => {
    const registry = new PolicyRegistry();
    registry.register(descriptor("p1"));
    const def = registry.get("p1");
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen(def?.rules)).toBe(true);
  });
});

describe("unregister", () => {
  it("removes a registered policy", () => {
    const registry = new PolicyRegistry();
    registry.register(descriptor("p1"));
    expect(registry.unregister("p1")).toEqual({ ok: true, error: "" });
    expect(registry.get("p1")).toBeUndefined();
  });

  it("refuses to remove the default policy", () => {
    const registry = new PolicyRegistry();
    expect(registry.unregister("policy.default")).toEqual({
      ok: false,
      error: "cannot unregister the built-in default policy",
    });
    expect(registry.get("policy.default")).toBe(DEFAULT_POLICY);
  });

  it("reports an unknown id", () => {
    expect(new PolicyRegistry().unregister("nope")).toEqual({ ok: false, error: "policy 'nope' not found" });
  });

  it("lets an id be registered again with different rules", () => {
    const registry = new PolicyRegistry();
    registry.register(descriptor("p1"));
    registry.unregister("p1");
    expect(registry.register(descriptor("p1", { rules: '{"voting":{"algorithm":"plurality"}}' })).ok).toBe(true);
    expect(registry.get("p1")?.rules).toEqual({ voting: { algorithm: "plurality" } });
  });
});

describe("list", () => {
  it("returns every policy sorted by id without a filter", () => {
    expect(ids(populated().list())).toEqual(["a.decision", "b.ext", "m.any", "policy.default", "z.task"]);
    expect(ids(populated().list(""))).toEqual(["a.decision", "b.ext", "m.any", "policy.default", "z.task"]);
  });

  it.each<{ filter: string; expected: readonly string[] }>([
    { filter: "macp.mode.decision.v1", expected: ["a.decision", "m.any", "policy.default"] },
    { filter: "macp.mode.task.v1", expected: ["m.any", "policy.default", "z.task"] },
    { filter: "ext.custom.v1", expected: ["b.ext", "m.any", "policy.default"] },
    { filter: "macp.mode.quorum.v1", expected: ["m.any", "policy.default"] },
    { filter: "*", expected: ["m.any", "policy.default"] },
  ])("with mode filter $filter keeps that mode and '*'", ({ filter, expected }) => {
    expect(ids(populated().list(filter))).toEqual(expected);
  });

  it("sorts by code point like the reference's byte order", () => {
    const registry = new PolicyRegistry();
    for (const id of ["\u{1F600}", "\uE000", "Z", "a"]) registry.register(descriptor(id));
    expect(ids(registry.list())).toEqual(["Z", "a", "policy.default", "\uE000", "\u{1F600}"]);
  });
});

describe("resolveForSession", () => {
  const registry = populated();

  it.each<{ version: string; mode: string; resolved: string }>([
    { version: "", mode: "macp.mode.quorum.v1", resolved: "policy.default" },
    { version: "policy.default", mode: "ext.multi_round.v1", resolved: "policy.default" },
    { version: "a.decision", mode: "macp.mode.decision.v1", resolved: "a.decision" },
    { version: "m.any", mode: "macp.mode.handoff.v1", resolved: "m.any" },
  ])("binds $version for a $mode session", ({ version, mode, resolved }) => {
    expect(registry.resolveForSession(version, mode).policyId).toBe(resolved);
  });

  const failure = (run: () => unknown): MacpError => {
    try {
      run();
    } catch (error) {
      if (error instanceof MacpError) return error;
    }
    throw new Error("expected a MacpError");
  };

  it("fails with UNKNOWN_POLICY_VERSION for an unregistered id", () => {
    const error = failure(() => registry.resolveForSession("missing", "macp.mode.decision.v1"));
    expect([error.code, error.variant]).toEqual(["UNKNOWN_POLICY_VERSION", "UnknownPolicyVersion"]);
  });

  it("fails with INVALID_POLICY_DEFINITION for a policy of another mode", () => {
    const error = failure(() => registry.resolveForSession("a.decision", "macp.mode.task.v1"));
    expect([error.code, error.variant]).toEqual(["INVALID_POLICY_DEFINITION", "InvalidPolicyDefinition"]);
  });

  it("hands out a definition that later registry changes do not alter", () => {
    const local = new PolicyRegistry();
    local.register(descriptor("p1"));
    const bound = local.resolveForSession("p1", "macp.mode.decision.v1");
    local.unregister("p1");
    local.register(descriptor("p1", { rules: "{}" }));
    expect(bound.rules).toEqual({ voting: { algorithm: "majority" } });
  });
});

describe("change notifications", () => {
  it("fire once per successful register or unregister, never on failures", () => {
    const registry = new PolicyRegistry();
    let changes = 0;
    registry.subscribe(() => {
      changes += 1;
    });
    registry.register(descriptor("p1"));
    registry.register(descriptor("p1"));
    registry.register(descriptor("policy.default"));
    registry.unregister("policy.default");
    registry.unregister("nope");
    registry.unregister("p1");
    expect(changes).toBe(2);
  });

  it("run after the change is visible", () => {
    const registry = new PolicyRegistry();
    const seen: string[][] = [];
    registry.subscribe(() => seen.push(ids(registry.list())));
    registry.register(descriptor("p1"));
    expect(seen).toEqual([["p1", "policy.default"]]);
  });

  it("stop after unsubscribing, and a listener subscribed twice is called twice", () => {
    const registry = new PolicyRegistry();
    let calls = 0;
    const listener = (): void => {
      calls += 1;
    };
    const first = registry.subscribe(listener);
    registry.subscribe(listener);
    registry.register(descriptor("p1"));
    first();
    registry.register(descriptor("p2"));
    expect(calls).toBe(3);
  });
});

describe("export and restore", () => {
  it("exports registered policies sorted by id, without the default", () => {
    expect(ids(populated().exportRegistered())).toEqual(["a.decision", "b.ext", "m.any", "z.task"]);
  });

  it("restores an export into a fresh registry without notifying", () => {
    const source = populated();
    const target = new PolicyRegistry();
    let changes = 0;
    target.subscribe(() => {
      changes += 1;
    });
    expect(target.restore(source.exportRegistered())).toEqual([]);
    expect(target.list()).toEqual(source.list());
    expect(changes).toBe(0);
  });

  it("survives a JSON round trip, as a persisted registry document does", () => {
    const persisted = JSON.stringify(populated().exportRegistered());
    const target = new PolicyRegistry();
    target.restore(JSON.parse(persisted) as PolicyDefinition[]);
    expect(target.list()).toEqual(populated().list());
  });

  it("keeps float forms when persisted as descriptors", () => {
    const source = new PolicyRegistry();
    source.register(descriptor("p1", { rules: '{"voting":{"threshold":1.0}}' }));
    const persisted = JSON.stringify(source.exportRegistered().map(policyToDescriptor), int64JsonReplacer);
    const target = new PolicyRegistry();
    target.restore((JSON.parse(persisted) as PolicyDescriptor[]).map(policyFromDescriptor));
    expect(policyToDescriptor(target.get("p1") as PolicyDefinition).rules).toBe('{"voting":{"threshold":1.0}}');
  });

  it("skips and reports definitions that are invalid or already present", () => {
    const target = new PolicyRegistry();
    const valid: PolicyDefinition = { policyId: "ok", mode: "*", description: "", rules: {}, schemaVersion: 1 };
    const rejections = target.restore([
      valid,
      { ...valid, policyId: "policy.default" },
      { ...valid },
      { ...valid, policyId: "bad", rules: { voting: 1 } },
    ]);
    expect(rejections).toEqual([
      { policyId: "policy.default", error: "cannot register with reserved policy_id 'policy.default'" },
      { policyId: "ok", error: "policy 'ok' is already registered" },
      {
        policyId: "bad",
        error: "rules do not match schema for mode '*': voting: invalid type: integer `1`, expected an object",
      },
    ]);
    expect(ids(target.list())).toEqual(["ok", "policy.default"]);
  });

  it("copies restored definitions so the caller's objects stay unfrozen", () => {
    const rules = { voting: { algorithm: "majority" } };
    const target = new PolicyRegistry();
    target.restore([{ policyId: "p", mode: "*", description: "", rules, schemaVersion: 1 }]);
    expect(Object.isFrozen(rules)).toBe(false);
    expect(Object.isFrozen(target.get("p")?.rules)).toBe(true);
  });
});
