import { MacpError, ModeId, type ModeDescriptor } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import {
  ModeRegistry,
  decisionMode,
  handoffMode,
  multiRoundMode,
  proposalMode,
  quorumMode,
  taskMode,
  type RegistryState,
} from "../src/index.js";
import { envelope, sessionView } from "./mode-test-kit.js";

const SCHEMA_URIS = { protobuf: "buf.build/multiagentcoordinationprotocol/macp" };

function extension(mode: string, fields: Partial<ModeDescriptor> = {}): ModeDescriptor {
  return {
    mode,
    modeVersion: "1.0.0",
    title: "Custom Mode",
    description: "Test custom mode",
    determinismClass: "",
    participantModel: "",
    messageTypes: ["SessionStart", "CustomMsg", "Commitment"],
    terminalMessageTypes: ["Commitment"],
    schemaUris: {},
    ...fields,
  };
}

function registryWith(...modes: string[]): ModeRegistry {
  const registry = new ModeRegistry();
  for (const mode of modes) expect(registry.register(extension(mode))).toEqual({ ok: true, error: "" });
  return registry;
}

function ids(descriptors: readonly ModeDescriptor[]): string[] {
  return descriptors.map((descriptor) => descriptor.mode);
}

const STANDARD_FIVE = [ModeId.Decision, ModeId.Proposal, ModeId.Task, ModeId.Handoff, ModeId.Quorum];

describe("built-in modes (§3.1)", () => {
  it.each([
    [ModeId.Decision, "Decision Mode", "Structured decision making with proposals, evaluations, objections, votes, and a terminal Commitment.", "semantic-deterministic", "declared", ["Proposal", "Evaluation", "Objection", "Vote"], true, decisionMode],
    [ModeId.Proposal, "Proposal Mode", "Negotiation with proposals, counterproposals, accepts, rejects, withdrawals, and a terminal Commitment.", "semantic-deterministic", "peer", ["Proposal", "CounterProposal", "Accept", "Reject", "Withdraw"], true, proposalMode],
    [ModeId.Task, "Task Mode", "One bounded delegated task with assignee responses, progress, completion/failure reports, and a terminal Commitment.", "structural-only", "orchestrated", ["TaskRequest", "TaskAccept", "TaskReject", "TaskUpdate", "TaskComplete", "TaskFail"], true, taskMode],
    [ModeId.Handoff, "Handoff Mode", "Scoped responsibility transfer with handoff offers, context, target responses, and a terminal Commitment.", "context-frozen", "delegated", ["HandoffOffer", "HandoffContext", "HandoffAccept", "HandoffDecline"], true, handoffMode],
    [ModeId.Quorum, "Quorum Mode", "Threshold approval with one approval request, participant ballots, and a terminal Commitment.", "semantic-deterministic", "quorum", ["ApprovalRequest", "Approve", "Reject", "Abstain"], true, quorumMode],
    [ModeId.MultiRound, "Multi-Round Mode", "Iterative convergence through multiple contribution rounds until all participants agree, with a terminal Commitment.", "semantic-deterministic", "peer", ["Contribute"], false, multiRoundMode],
  ])("%s has the reference descriptor and handler", (mode, title, description, determinismClass, participantModel, types, standardsTrack, handler) => {
    const entry = new ModeRegistry().get(mode);
    expect(entry).toEqual({
      descriptor: {
        mode,
        modeVersion: "1.0.0",
        title,
        description,
        determinismClass,
        participantModel,
        messageTypes: ["SessionStart", ...types, "Commitment"],
        terminalMessageTypes: ["Commitment"],
        schemaUris: SCHEMA_URIS,
      },
      handler,
      strict: true,
      standardsTrack,
      builtIn: true,
    });
  });

  it("lists the five standards-track modes in fixed order, the built-in extension, and all six ids sorted", () => {
    const registry = new ModeRegistry();
    expect(ids(registry.listStandard())).toEqual(STANDARD_FIVE);
    expect(ids(registry.listExtensions())).toEqual([ModeId.MultiRound]);
    expect(registry.allModeNames()).toEqual([
      "ext.multi_round.v1",
      "macp.mode.decision.v1",
      "macp.mode.handoff.v1",
      "macp.mode.proposal.v1",
      "macp.mode.quorum.v1",
      "macp.mode.task.v1",
    ]);
  });

  it("returns undefined for an unknown mode", () => {
    expect(new ModeRegistry().get("ext.unknown.v1")).toBeUndefined();
  });
});

describe("RegisterExtMode (§3.3)", () => {
  it("registers a non-strict, non-standards-track passthrough mode", () => {
    const registry = registryWith("ext.custom.v1");
    const entry = registry.get("ext.custom.v1");
    expect(entry).toMatchObject({ descriptor: extension("ext.custom.v1"), strict: false, standardsTrack: false, builtIn: false });
    expect(ids(registry.listExtensions())).toEqual(["ext.custom.v1", ModeId.MultiRound]);
    expect(registry.allModeNames()).toHaveLength(7);
    expect(ids(registry.listStandard())).toEqual(STANDARD_FIVE);
    const session = sessionView("ext.custom.v1", "agent://a", ["agent://a", "agent://b"]);
    expect(entry?.handler.apply(session, null, envelope("CustomMsg", "agent://b", Uint8Array.of(1))).kind).toBe("accepted");
    expect(entry?.handler.apply(session, null, envelope("Other", "agent://b", Uint8Array.of(1))).kind).toBe("rejected");
  });

  it.each([
    ["an empty mode", extension(""), "mode name must not be empty"],
    ["a blank mode", extension(" \t"), "mode name must not be empty"],
    ["the reserved namespace", extension("macp.mode.evil.v1"), "cannot register extension with reserved macp.mode.* namespace"],
    ["the reserved namespace before empty message types", extension("macp.mode.evil.v1", { messageTypes: [] }), "cannot register extension with reserved macp.mode.* namespace"],
    ["empty message types", extension("ext.invalid.v1", { messageTypes: [], terminalMessageTypes: [] }), "extension descriptor must declare at least one message type"],
    ["empty message types before a blank mode_version", extension("ext.invalid.v1", { messageTypes: [], modeVersion: "" }), "extension descriptor must declare at least one message type"],
    ["a blank mode_version", extension("ext.invalid.v1", { modeVersion: "  " }), "extension descriptor must bind mode_version"],
    ["a terminal type not in message_types", extension("ext.invalid.v1", { messageTypes: ["SessionStart", "Custom"], terminalMessageTypes: ["Custom", "Commitment", "Done"] }), "terminal message type 'Commitment' must also appear in message_types"],
    ["a built-in id", extension(ModeId.MultiRound), "mode 'ext.multi_round.v1' is already registered"],
    ["a built-in id with empty message types (duplicate is checked last)", extension(ModeId.MultiRound, { messageTypes: [] }), "extension descriptor must declare at least one message type"],
  ])("rejects %s", (_name, descriptor, error) => {
    const registry = new ModeRegistry();
    expect(registry.register(descriptor)).toEqual({ ok: false, error });
    expect(registry.allModeNames()).toHaveLength(6);
  });

  it("rejects a second registration of the same id", () => {
    const registry = registryWith("ext.custom.v1");
    expect(registry.register(extension("ext.custom.v1", { title: "again" }))).toEqual({
      ok: false,
      error: "mode 'ext.custom.v1' is already registered",
    });
    expect(registry.get("ext.custom.v1")?.descriptor.title).toBe("Custom Mode");
  });

  it("keeps its own frozen copy of the descriptor", () => {
    const registry = new ModeRegistry();
    const descriptor = extension("ext.custom.v1");
    registry.register(descriptor);
    descriptor.messageTypes.push("Injected");
    descriptor.title = "changed";
    const stored = registry.get("ext.custom.v1")?.descriptor;
    expect(stored).toEqual(extension("ext.custom.v1"));
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored?.messageTypes)).toBe(true);
  });
});

describe("UnregisterExtMode (§3.3)", () => {
  it.each([
    ["an unknown mode", "ext.unknown.v1", "mode 'ext.unknown.v1' not found"],
    ["the built-in extension", ModeId.MultiRound, "cannot unregister built-in mode 'ext.multi_round.v1'"],
    ["a standards-track built-in", ModeId.Decision, "cannot unregister built-in mode 'macp.mode.decision.v1'"],
  ])("refuses %s", (_name, mode, error) => {
    expect(new ModeRegistry().unregister(mode)).toEqual({ ok: false, error });
  });

  it("refuses a promoted extension as standards-track", () => {
    const registry = registryWith("ext.custom.v1");
    registry.promote("ext.custom.v1");
    expect(registry.unregister("ext.custom.v1")).toEqual({ ok: false, error: "cannot unregister standards-track mode 'ext.custom.v1'" });
  });

  it("removes a registered extension", () => {
    const registry = registryWith("ext.temp.v1");
    expect(registry.unregister("ext.temp.v1")).toEqual({ ok: true, error: "" });
    expect(registry.get("ext.temp.v1")).toBeUndefined();
    expect(registry.allModeNames()).toHaveLength(6);
    expect(registry.register(extension("ext.temp.v1"))).toEqual({ ok: true, error: "" });
  });
});

describe("PromoteMode (§3.3)", () => {
  it.each([
    ["an unknown mode", "ext.unknown.v1", undefined, "mode 'ext.unknown.v1' not found"],
    ["a standards-track mode", ModeId.Decision, undefined, "mode 'macp.mode.decision.v1' is already standards-track"],
    ["a rename onto an existing id", "ext.custom.v1", ModeId.MultiRound, "cannot promote: target name 'ext.multi_round.v1' already exists"],
  ])("refuses %s", (_name, mode, newName, error) => {
    const registry = registryWith("ext.custom.v1");
    expect(registry.promote(mode, newName)).toEqual({ ok: false, error, mode: "" });
    expect(registry.get("ext.custom.v1")?.standardsTrack).toBe(false);
  });

  it("refuses to promote an already promoted mode", () => {
    const registry = registryWith("ext.custom.v1");
    registry.promote("ext.custom.v1");
    expect(registry.promote("ext.custom.v1")).toEqual({ ok: false, error: "mode 'ext.custom.v1' is already standards-track", mode: "" });
  });

  it.each([
    ["without a new name", undefined],
    ["with an empty new name", ""],
    ["with its own id as the new name", "ext.keep.v1"],
  ])("promotes in place %s: standards-track and strict", (_name, newName) => {
    const registry = registryWith("ext.keep.v1");
    expect(registry.promote("ext.keep.v1", newName)).toEqual({ ok: true, error: "", mode: "ext.keep.v1" });
    expect(registry.get("ext.keep.v1")).toMatchObject({ strict: true, standardsTrack: true, builtIn: false });
    expect(ids(registry.listStandard())).toEqual([...STANDARD_FIVE, "ext.keep.v1"]);
    expect(ids(registry.listExtensions())).toEqual([ModeId.MultiRound]);
  });

  it("re-keys on rename, into the reserved namespace too, and the descriptor follows the key", () => {
    const registry = registryWith("ext.new.v1");
    const before = registry.get("ext.new.v1");
    expect(registry.promote("ext.new.v1", "macp.mode.new.v1")).toEqual({ ok: true, error: "", mode: "macp.mode.new.v1" });
    expect(registry.get("ext.new.v1")).toBeUndefined();
    const after = registry.get("macp.mode.new.v1");
    expect(after?.descriptor).toEqual({ ...extension("ext.new.v1"), mode: "macp.mode.new.v1" });
    expect(after?.handler).toBe(before?.handler);
    expect(ids(registry.listStandard())).toContain("macp.mode.new.v1");
    expect(registry.allModeNames()).toContain("macp.mode.new.v1");
  });

  it("promotes the built-in extension, which stays built-in", () => {
    const registry = new ModeRegistry();
    expect(registry.promote(ModeId.MultiRound, "ext.multi_round.v2")).toEqual({ ok: true, error: "", mode: "ext.multi_round.v2" });
    expect(registry.get("ext.multi_round.v2")).toMatchObject({ standardsTrack: true, strict: true, builtIn: true, handler: multiRoundMode });
    expect(registry.listExtensions()).toEqual([]);
    expect(registry.unregister("ext.multi_round.v2")).toEqual({ ok: false, error: "cannot unregister built-in mode 'ext.multi_round.v2'" });
  });
});

describe("listing order", () => {
  it("puts promoted modes after the fixed five, sorted by id in byte order", () => {
    const registry = registryWith("ext.z.v1", "ext.a.v1", "ext.B.v1");
    for (const mode of ["ext.z.v1", "ext.a.v1", "ext.B.v1"]) registry.promote(mode);
    expect(ids(registry.listStandard())).toEqual([...STANDARD_FIVE, "ext.B.v1", "ext.a.v1", "ext.z.v1"]);
  });

  it("sorts extensions and all ids by UTF-8 bytes, not UTF-16 units", () => {
    const registry = registryWith("ext.\u{1F600}", "ext.\uFF21", "ext.b", "ext.A");
    expect(ids(registry.listExtensions())).toEqual(["ext.A", "ext.b", ModeId.MultiRound, "ext.\uFF21", "ext.\u{1F600}"]);
    expect(registry.allModeNames().slice(0, 5)).toEqual(["ext.A", "ext.b", ModeId.MultiRound, "ext.\uFF21", "ext.\u{1F600}"]);
  });
});

describe("change notifications (WatchModeRegistry)", () => {
  it("notifies once per successful change and never for a failed one", () => {
    const registry = new ModeRegistry();
    let changes = 0;
    const unsubscribe = registry.subscribe(() => {
      changes += 1;
    });
    registry.register(extension("ext.a.v1"));
    registry.register(extension("ext.a.v1"));
    registry.register(extension("macp.mode.x.v1"));
    registry.promote("ext.a.v1", "ext.b.v1");
    registry.promote("ext.missing.v1");
    registry.register(extension("ext.c.v1"));
    registry.unregister("ext.c.v1");
    registry.unregister(ModeId.Decision);
    expect(changes).toBe(4);
    registry.restore(registry.exportState());
    expect(changes).toBe(5);
    unsubscribe();
    registry.register(extension("ext.d.v1"));
    expect(changes).toBe(5);
  });

  it("serves every subscriber, and a subscriber added twice is called twice", () => {
    const registry = new ModeRegistry();
    const calls: string[] = [];
    const first = (): void => {
      calls.push("first");
    };
    registry.subscribe(first);
    registry.subscribe(first);
    registry.subscribe(() => calls.push("second"));
    registry.register(extension("ext.a.v1"));
    expect(calls).toEqual(["first", "first", "second"]);
  });
});

describe("persistence across restarts", () => {
  it("exports nothing for a fresh registry", () => {
    expect(new ModeRegistry().exportState()).toEqual({ version: 1, extensions: [], promotions: [] });
  });

  it("restores registrations, promotions and renames after a JSON round trip", () => {
    const original = registryWith("ext.plain.v1", "ext.kept.v1", "ext.renamed.v1");
    original.register(extension("ext.uris.v1", { schemaUris: { json_schema: "https://example.test/s.json" } }));
    original.promote("ext.kept.v1");
    original.promote("ext.renamed.v1", "macp.mode.renamed.v1");
    original.promote(ModeId.MultiRound, "macp.mode.multi_round.v1");
    original.register(extension("ext.multi_round.v1"));

    const saved = JSON.parse(JSON.stringify(original.exportState())) as RegistryState;
    expect(saved.promotions).toEqual([{ mode: ModeId.MultiRound, promotedName: "macp.mode.multi_round.v1" }]);

    const restored = new ModeRegistry();
    restored.restore(saved);
    expect(restored.allModeNames()).toEqual(original.allModeNames());
    expect(restored.listStandard()).toEqual(original.listStandard());
    expect(restored.listExtensions()).toEqual(original.listExtensions());
    for (const mode of original.allModeNames()) {
      const { handler: _restoredHandler, ...restoredEntry } = restored.get(mode) ?? {};
      const { handler: _originalHandler, ...originalEntry } = original.get(mode) ?? {};
      expect(restoredEntry).toEqual(originalEntry);
    }
    expect(restored.get("macp.mode.multi_round.v1")?.handler).toBe(multiRoundMode);
    expect(restored.exportState()).toEqual(saved);
  });

  it("replaces whatever was registered before the restore", () => {
    const registry = registryWith("ext.stale.v1");
    registry.promote(ModeId.MultiRound);
    registry.restore(registryWith("ext.fresh.v1").exportState());
    expect(registry.get("ext.stale.v1")).toBeUndefined();
    expect(registry.get("ext.fresh.v1")).toBeDefined();
    expect(registry.get(ModeId.MultiRound)?.standardsTrack).toBe(false);
  });

  const VALID: RegistryState = { version: 1, extensions: [{ descriptor: extension("ext.a.v1"), standardsTrack: false }], promotions: [] };

  it.each<[string, unknown]>([
    ["a non-object", "modes"],
    ["an unknown version", { ...VALID, version: 2 }],
    ["missing lists", { version: 1 }],
    ["a malformed descriptor", { ...VALID, extensions: [{ descriptor: { ...extension("ext.a.v1"), messageTypes: "Ping" }, standardsTrack: false }] }],
    ["a missing standardsTrack flag", { ...VALID, extensions: [{ descriptor: extension("ext.a.v1") }] }],
    ["a non-promoted extension in the reserved namespace", { ...VALID, extensions: [{ descriptor: extension("macp.mode.a.v1"), standardsTrack: false }] }],
    ["a duplicate id", { ...VALID, extensions: [...VALID.extensions, ...VALID.extensions] }],
    ["an extension shadowing a built-in", { ...VALID, extensions: [{ descriptor: extension(ModeId.Decision), standardsTrack: true }] }],
    ["a promotion of a standards-track built-in", { ...VALID, promotions: [{ mode: ModeId.Task, promotedName: "x" }] }],
    ["a promotion of an unknown mode", { ...VALID, promotions: [{ mode: "ext.a.v1", promotedName: "x" }] }],
    ["a promotion onto a built-in id", { ...VALID, promotions: [{ mode: ModeId.MultiRound, promotedName: ModeId.Task }] }],
  ])("refuses %s and leaves the registry untouched", (_name, state) => {
    const registry = registryWith("ext.before.v1");
    const before = registry.exportState();
    let thrown: unknown;
    try {
      registry.restore(state);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MacpError);
    expect((thrown as MacpError).code).toBe("INTERNAL_ERROR");
    expect(registry.exportState()).toEqual(before);
  });
});
