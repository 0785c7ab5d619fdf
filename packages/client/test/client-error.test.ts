import { Metadata, status } from "@grpc/grpc-js";
import { ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER, MacpError, encodeErrorTrailers } from "@macp/protocol";
import type { MacpErrorVariant } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { MacpClientError } from "../src/index.js";

function trailers(entries: Record<string, unknown>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) {
    if (key.endsWith("-bin")) metadata.set(key, Buffer.from(typeof value === "string" ? value : JSON.stringify(value)));
    else metadata.set(key, String(value));
  }
  return metadata;
}

/** The trailers the runtime sends with the status of `error`. */
function runtimeTrailers(error: MacpError): Metadata {
  const metadata = new Metadata();
  for (const { key, value } of encodeErrorTrailers(error)) metadata.set(key, typeof value === "string" ? value : Buffer.from(value));
  return metadata;
}

describe("MacpClientError", () => {
  it.each<[string, status, string, Metadata | undefined, Partial<MacpClientError>]>([
    ["a code trailer", status.FAILED_PRECONDITION, "something", trailers({ [ERROR_CODE_TRAILER]: "SESSION_NOT_FOUND" }), { macpCode: "SESSION_NOT_FOUND", reasons: undefined }],
    ["a code trailer that is no registry code", status.INTERNAL, "x", trailers({ [ERROR_CODE_TRAILER]: "NOT_A_CODE" }), { macpCode: undefined }],
    ["a details trailer alone (the reference runtime's POLICY_DENIED)", status.FAILED_PRECONDITION, "PolicyDenied: a; b", trailers({ [ERROR_DETAILS_TRAILER]: { reasons: ["a", "b"] } }), { macpCode: "POLICY_DENIED", reasons: ["a", "b"] }],
    ["both trailers", status.FAILED_PRECONDITION, "PolicyDenied: a", trailers({ [ERROR_CODE_TRAILER]: "POLICY_DENIED", [ERROR_DETAILS_TRAILER]: { reasons: ["a"] } }), { macpCode: "POLICY_DENIED", reasons: ["a"] }],
    ["an unreadable details trailer", status.FAILED_PRECONDITION, "Forbidden", trailers({ [ERROR_CODE_TRAILER]: "FORBIDDEN", [ERROR_DETAILS_TRAILER]: "{not json" }), { macpCode: "FORBIDDEN", reasons: undefined }],
    // Message text is never parsed: a status without trailers states no code, whatever it says.
    ["a variant name without trailers", status.UNAUTHENTICATED, "Unauthenticated", undefined, { macpCode: undefined }],
    ["a code prefix without trailers", status.PERMISSION_DENIED, "FORBIDDEN: session access denied", new Metadata(), { macpCode: undefined }],
  ])("reads the MACP code from %s", (_case, grpcCode, details, received, expected) => {
    const error = new MacpClientError(grpcCode, details, received);
    expect(error).toMatchObject({ grpcCode, details, ...expected });
    expect(error.message).toBe(`${status[grpcCode]}: ${details}`);
  });

  it.each<MacpErrorVariant>(["Unauthenticated", "Forbidden", "SessionNotFound", "InvalidSessionId", "StreamLagged", "TtlExpired", "AgentNotFound"])(
    "decodes the code the runtime encodes for %s",
    (variant) => {
      const sent = new MacpError(variant);
      expect(new MacpClientError(status.UNKNOWN, sent.message, runtimeTrailers(sent)).macpCode).toBe(sent.code);
    },
  );

  it("decodes a policy denial the runtime encodes, reasons included", () => {
    const sent = MacpError.policyDenied(["quorum not met", "vetoed"]);
    expect(new MacpClientError(status.FAILED_PRECONDITION, sent.message, runtimeTrailers(sent))).toMatchObject({
      macpCode: "POLICY_DENIED",
      reasons: ["quorum not met", "vetoed"],
    });
  });

  it("converts grpc-js errors, keeping them as cause, and passes its own through", () => {
    const serviceError = Object.assign(new Error("16 UNAUTHENTICATED: Unauthenticated"), {
      code: status.UNAUTHENTICATED,
      details: "Unauthenticated",
      metadata: runtimeTrailers(new MacpError("Unauthenticated")),
    });
    const converted = MacpClientError.from(serviceError);
    expect(converted).toMatchObject({ grpcCode: status.UNAUTHENTICATED, macpCode: "UNAUTHENTICATED" });
    expect(converted.cause).toBe(serviceError);
    expect(MacpClientError.from(converted)).toBe(converted);
    const boom = new TypeError("boom");
    expect(MacpClientError.from(boom)).toMatchObject({ grpcCode: status.INTERNAL, details: "boom", cause: boom });
  });
});
