import { describe, expect, it } from "vitest";
import { GrpcStatus, grpcStatusForCode, isMacpErrorCode, MACP_ERROR_CODES, MacpError } from "../src/index.js";
import type { GrpcStatusCode, MacpErrorCode, MacpErrorVariant } from "../src/index.js";
import { code, readSpec, section, tableBodyRows } from "./support/spec-markdown.js";

interface ErrorRow {
  readonly code: MacpErrorCode;
  readonly variants: MacpErrorVariant[];
  readonly status: GrpcStatusCode;
}

function statusNamed(text: string): GrpcStatusCode {
  const name = /^`?([A-Z_]+)/.exec(text)?.[1] ?? "";
  const status = (GrpcStatus as Record<string, GrpcStatusCode>)[name];
  if (status === undefined) throw new Error(`unknown gRPC status "${text}"`);
  return status;
}

function errorRows(spec: string, heading: string, columns: { code: number; variant: number; status: number }): ErrorRow[] {
  return tableBodyRows(section(readSpec(spec), heading)).map((cells) => {
    const registryCode = code((cells[columns.code] ?? "").split(" ")[0] ?? "");
    if (registryCode === undefined || !isMacpErrorCode(registryCode)) throw new Error(`bad code cell in ${cells.join("|")}`);
    const variants = [...(cells[columns.variant] ?? "").matchAll(/`(\w+)`/g)].map((match) => match[1] as MacpErrorVariant);
    return { code: registryCode, variants, status: statusNamed(cells[columns.status] ?? "") };
  });
}

const protocolRows = errorRows("protocol.md", "### 3.2", { code: 0, variant: 1, status: 2 });
const wireRows = errorRows("wire.md", "### 5.6", { code: 1, variant: 0, status: 2 });

describe("MacpError codes and their gRPC status (protocol.md §3.2, wire.md §5.6)", () => {
  it("reads every code except the deprecated UNAUTHORIZED alias, and all 20 variants", () => {
    expect(new Set(protocolRows.map((row) => row.code))).toEqual(
      new Set(MACP_ERROR_CODES.filter((registryCode) => registryCode !== "UNAUTHORIZED")),
    );
    expect(new Set(protocolRows.flatMap((row) => row.variants)).size).toBe(20);
    expect(new Set(wireRows.flatMap((row) => row.variants)).size).toBe(20);
  });

  it.each([...protocolRows, ...wireRows].map((row) => [`${row.variants.join("/")} → ${row.code}`, row] as const))(
    "%s",
    (_, row) => {
      expect(grpcStatusForCode(row.code)).toBe(row.status);
      for (const variant of row.variants) {
        const error = new MacpError(variant);
        expect([variant, error.code, error.message]).toEqual([variant, row.code, variant]);
        expect(grpcStatusForCode(error.code)).toBe(row.status);
      }
      expect(MacpError.fromCode(row.code).code).toBe(row.code);
    },
  );

  it("maps the deprecated UNAUTHORIZED like FORBIDDEN, and never produces it", () => {
    expect(grpcStatusForCode("UNAUTHORIZED")).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(MacpError.fromCode("UNAUTHORIZED").code).toBe("FORBIDDEN");
  });

  it("carries policy deny reasons as JSON details and in the status message", () => {
    const error = MacpError.policyDenied(["r1", "r2"]);
    expect([error.code, error.message, grpcStatusForCode(error.code)]).toEqual([
      "POLICY_DENIED",
      "PolicyDenied: r1; r2",
      GrpcStatus.FAILED_PRECONDITION,
    ]);
    expect(JSON.parse(new TextDecoder().decode(error.detailsBytes()))).toEqual({ reasons: ["r1", "r2"] });
    expect(MacpError.policyDenied([]).message).toBe("PolicyDenied");
    expect(new MacpError("InvalidPayload").detailsBytes()).toEqual(new Uint8Array());
  });
});
