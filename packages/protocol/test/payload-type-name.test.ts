import { describe, expect, it } from "vitest";
import { decodePayload, ModeId, payloadTypeName } from "../src/index.js";
import { expectMacpError } from "./support/macp-error-assertions.js";
import { specPayloadRows } from "./support/wire-spec.js";

const rows = specPayloadRows();
const coreRows = rows.filter((row) => row.mode === "*");
const modeRows = rows.filter((row) => row.mode !== "*");
const BUILT_IN_MODES: string[] = Object.values(ModeId);
const OTHER_MODES = ["", "com.example.mode.custom.v1", "ext.unknown.v1"];
const CONTRIBUTE_TYPE = "macp.modes.multi_round.v1.ContributePayload";

function isTypeName(cell: string): boolean {
  return /^macp\.[\w.]+\.\w+Payload$/.test(cell);
}

describe("payloadTypeName follows wire.md §4.1 and §4.2", () => {
  it("reads the spec tables (9 core rows, 30 built-in mode rows)", () => {
    expect(coreRows).toHaveLength(9);
    expect(modeRows).toHaveLength(30);
    expect(new Set(modeRows.map((row) => row.mode))).toEqual(new Set(BUILT_IN_MODES));
  });

  it.each(coreRows.map((row) => [row.messageType, row] as const))("core %s resolves the same in every mode", (_, row) => {
    const expected = isTypeName(row.payloadType) ? row.payloadType : undefined;
    for (const mode of [...BUILT_IN_MODES, ...OTHER_MODES]) {
      expect([mode, payloadTypeName(mode, row.messageType)]).toEqual([mode, expected]);
    }
  });

  it("has no payload type for the runtime-internal markers", () => {
    expect(coreRows.filter((row) => !isTypeName(row.payloadType)).map((row) => row.messageType).sort()).toEqual([
      "Checkpoint",
      "TtlExpired",
    ]);
  });

  it.each(modeRows.map((row) => [`${row.mode} ${row.messageType}`, row] as const))("%s", (_, row) => {
    // README decision 6: Contribute is also the later-revision protobuf ContributePayload.
    const expected = row.messageType === "Contribute" ? CONTRIBUTE_TYPE : row.payloadType;
    expect(isTypeName(expected)).toBe(true);
    expect(payloadTypeName(row.mode, row.messageType)).toBe(expected);
  });

  it("does not resolve one mode's message types in another mode", () => {
    for (const row of modeRows) {
      for (const mode of [...BUILT_IN_MODES, ...OTHER_MODES]) {
        const ownRow = rows.find(
          (candidate) => (candidate.mode === mode || candidate.mode === "*") && candidate.messageType === row.messageType,
        );
        if (ownRow === undefined) {
          expect([mode, row.messageType, payloadTypeName(mode, row.messageType)]).toEqual([mode, row.messageType, undefined]);
        }
      }
    }
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "", "vote", "sessionstart"])(
    "has no payload type for %j",
    (messageType) => {
      expect(payloadTypeName(ModeId.Decision, messageType)).toBeUndefined();
      expectMacpError(() => decodePayload(ModeId.Decision, messageType, new Uint8Array()), "InvalidPayload");
    },
  );
});
