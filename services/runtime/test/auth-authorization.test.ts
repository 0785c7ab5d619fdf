import { describe, expect, it } from "vitest";
import {
  authorizeMode,
  authorizeRegistryManagement,
  canReadSession,
  devIdentity,
  type Identity,
} from "../src/auth/index.js";

const DECISION = "macp.mode.decision.v1";
const TASK = "macp.mode.task.v1";

function identity(overrides: Partial<Identity> = {}): Identity {
  return { ...devIdentity("alice"), canManageModeRegistry: false, ...overrides };
}

describe("authorizeMode", () => {
  const cases: ReadonlyArray<readonly [string, Partial<Identity>, string, string, "FORBIDDEN" | undefined]> = [
    ["unrestricted identity starts a session", {}, "SessionStart", DECISION, undefined],
    ["unrestricted identity sends an ambient Signal", {}, "Signal", "", undefined],
    ["can_start_sessions=false blocks SessionStart", { canStartSessions: false }, "SessionStart", DECISION, "FORBIDDEN"],
    ["can_start_sessions=false still allows session messages", { canStartSessions: false }, "Vote", DECISION, undefined],
    ["allowed mode passes", { allowedModes: new Set([DECISION]) }, "Vote", DECISION, undefined],
    ["mode outside the set is forbidden", { allowedModes: new Set([DECISION]) }, "TaskRequest", TASK, "FORBIDDEN"],
    ["a restricted identity cannot send ambient Signals", { allowedModes: new Set([DECISION]) }, "Signal", "", "FORBIDDEN"],
    ["a restricted identity cannot send ambient Progress", { allowedModes: new Set([DECISION]) }, "Progress", "", "FORBIDDEN"],
    ["an empty set forbids everything", { allowedModes: new Set() }, "Vote", DECISION, "FORBIDDEN"],
    ["both checks apply to SessionStart", { canStartSessions: true, allowedModes: new Set([TASK]) }, "SessionStart", DECISION, "FORBIDDEN"],
  ];

  it.each(cases)("%s", (_case, overrides, messageType, mode, expected) => {
    const error = authorizeMode(identity(overrides), messageType, mode);
    expect(error?.code).toBe(expected);
    if (error !== undefined) expect(error.message).toBe("Forbidden");
  });
});

describe("authorizeRegistryManagement", () => {
  it.each([
    [true, undefined],
    [false, "FORBIDDEN"],
  ] as const)("can_manage_mode_registry=%s → %s", (canManageModeRegistry, expected) => {
    expect(authorizeRegistryManagement(identity({ canManageModeRegistry }))?.code).toBe(expected);
  });
});

describe("canReadSession", () => {
  const session = { initiator: "alice", participants: ["bob", "carol"] };
  it.each([
    ["the initiator", "alice", false, true],
    ["a declared participant", "bob", false, true],
    ["an outsider", "mallory", false, false],
    ["an observer outsider", "auditor", true, true],
  ] as const)("%s", (_case, sender, isObserver, expected) => {
    expect(canReadSession(identity({ sender, isObserver }), session)).toBe(expected);
  });
});
