import type { CommitmentPayload, ModeDescriptor } from "@macp/protocol";
import type { PolicyDefinition } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { createPassthroughMode } from "../src/index.js";
import {
  acceptedState,
  commitmentBytes,
  customPolicy,
  envelope,
  expectRejected,
  frozenCopy,
  sessionView,
  startPayload,
} from "./mode-test-kit.js";

const MODE = "ext.custom.v1";
const OWNER = "agent://owner";
const PEER = "agent://peer";
const OUTSIDER = "agent://outsider";
const utf8 = new TextEncoder();

function descriptor(messageTypes: string[]): ModeDescriptor {
  return {
    mode: MODE,
    modeVersion: "1.0.0",
    title: "",
    description: "",
    determinismClass: "",
    participantModel: "",
    messageTypes,
    terminalMessageTypes: [],
    schemaUris: {},
  };
}

const CUSTOM = createPassthroughMode(descriptor(["SessionStart", "Ping", "Commitment"]));
const NO_COMMITMENT = createPassthroughMode(descriptor(["SessionStart", "Ping"]));
const OPEN_ENDED = createPassthroughMode(descriptor(["SessionStart"]));
const session = sessionView(MODE, OWNER, [OWNER, PEER]);

function commit(fields: Partial<CommitmentPayload> = {}, on: { policyVersion: string } = session): Uint8Array {
  return commitmentBytes({ action: "custom.done", policyVersion: on.policyVersion, ...fields });
}

describe("passthrough SessionStart (§11)", () => {
  it("accepts any participant list and starts with no state", () => {
    const empty = sessionView(MODE, OWNER, []);
    expect(acceptedState(CUSTOM.start(empty, startPayload(empty)))).toBeNull();
  });
});

describe("passthrough rejections carry the exact code", () => {
  it.each([
    { name: "Commitment from a participant", handler: CUSTOM, sender: PEER, type: "Commitment", payload: commit(), code: "FORBIDDEN" },
    { name: "Commitment from a participant when Commitment is not declared (authorization first)", handler: NO_COMMITMENT, sender: PEER, type: "Commitment", payload: commit(), code: "FORBIDDEN" },
    { name: "a declared type from an outsider", handler: CUSTOM, sender: OUTSIDER, type: "Ping", payload: new Uint8Array(), code: "FORBIDDEN" },
    { name: "an undeclared type from an outsider", handler: CUSTOM, sender: OUTSIDER, type: "Pong", payload: new Uint8Array(), code: "FORBIDDEN" },
    { name: "an undeclared type", handler: CUSTOM, sender: PEER, type: "Pong", payload: new Uint8Array(), code: "INVALID_ENVELOPE" },
    { name: "SessionStart as a session message", handler: CUSTOM, sender: OWNER, type: "SessionStart", payload: new Uint8Array(), code: "INVALID_ENVELOPE" },
    { name: "Commitment from the initiator when Commitment is not declared", handler: NO_COMMITMENT, sender: OWNER, type: "Commitment", payload: commit(), code: "INVALID_ENVELOPE" },
    { name: "an undecodable Commitment", handler: CUSTOM, sender: OWNER, type: "Commitment", payload: Uint8Array.of(0x0a, 0x05, 0x61), code: "INVALID_ENVELOPE" },
    { name: "a Commitment with a blank action", handler: CUSTOM, sender: OWNER, type: "Commitment", payload: commit({ action: "" }), code: "INVALID_ENVELOPE" },
    { name: "a Commitment with another mode_version", handler: CUSTOM, sender: OWNER, type: "Commitment", payload: commit({ modeVersion: "2.0.0" }), code: "INVALID_ENVELOPE" },
    { name: "a Commitment 'x.failed' claiming a positive outcome", handler: CUSTOM, sender: OWNER, type: "Commitment", payload: commit({ action: "x.failed" }), code: "INVALID_ENVELOPE" },
  ])("$name → $code", ({ handler, sender, type, payload, code }) => {
    const outcome = handler.apply(session, null, envelope(type, sender, payload));
    expectRejected(outcome, code, code === "FORBIDDEN" ? "Forbidden" : "InvalidPayload");
  });
});

describe("passthrough happy paths", () => {
  it("stores the last accepted payload as a byte array, whatever it contains", () => {
    const first = acceptedState(CUSTOM.apply(session, null, envelope("Ping", PEER, utf8.encode("one"))));
    const second = acceptedState(CUSTOM.apply(session, frozenCopy(first), envelope("Ping", OWNER, Uint8Array.of(0xff, 0))));
    expect(first).toEqual(Array.from(utf8.encode("one")));
    expect(second).toEqual([0xff, 0]);
  });

  it("admits every type when the descriptor declares only SessionStart", () => {
    expect(acceptedState(OPEN_ENDED.apply(session, null, envelope("Anything", PEER, Uint8Array.of(7))))).toEqual([7]);
    expect(OPEN_ENDED.apply(session, null, envelope("Commitment", OWNER, commit())).kind).toBe("accepted");
  });

  it("lets anyone send when no participants were declared, but still only the initiator commits", () => {
    const open = sessionView(MODE, OWNER, []);
    expect(CUSTOM.apply(open, null, envelope("Ping", OUTSIDER, new Uint8Array())).kind).toBe("accepted");
    expectRejected(CUSTOM.apply(open, null, envelope("Commitment", OUTSIDER, commit({}, open))), "FORBIDDEN", "Forbidden");
  });

  it("resolves with {action, commitment_id} JSON and leaves the state as it was", () => {
    const state = frozenCopy([1, 2, 3]);
    const outcome = CUSTOM.apply(session, state, envelope("Commitment", OWNER, commit({ commitmentId: "c-\"7\"" })));
    if (outcome.kind !== "accepted" || outcome.resolution === undefined) throw new Error("expected a resolution");
    expect(outcome.state).toBe(state);
    expect(new TextDecoder().decode(outcome.resolution)).toBe(`{"action":"custom.done","commitment_id":"c-\\"7\\""}`);
  });

  it("checks the Commitment against whatever versions SessionStart carried, empty included", () => {
    const loose = { ...session, modeVersion: "", configurationVersion: "" };
    const outcome = CUSTOM.apply(loose, null, envelope("Commitment", OWNER, commit({ modeVersion: "", configurationVersion: "" })));
    expect(outcome.kind).toBe("accepted");
  });

  it.each<[string, PolicyDefinition]>([
    ["a designated-role policy", customPolicy({ commitment: { authority: "designated_role", designated_roles: [PEER] } })],
    ["an unsupported schema version", customPolicy({}, 3)],
  ])("ignores %s", (_name, policy) => {
    const governed = sessionView(MODE, OWNER, [OWNER, PEER], policy);
    expect(CUSTOM.apply(governed, null, envelope("Commitment", OWNER, commit({}, governed))).kind).toBe("accepted");
    expectRejected(CUSTOM.apply(governed, null, envelope("Commitment", PEER, commit({}, governed))), "FORBIDDEN", "Forbidden");
  });

  it("is unaffected by later changes to the descriptor object it was built from", () => {
    const source = descriptor(["SessionStart", "Ping"]);
    const handler = createPassthroughMode(source);
    source.messageTypes.push("Pong");
    expectRejected(handler.apply(session, null, envelope("Pong", PEER, new Uint8Array())), "INVALID_ENVELOPE", "InvalidPayload");
  });
});
