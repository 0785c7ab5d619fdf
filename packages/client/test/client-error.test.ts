import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ERROR_DETAILS_TRAILER, MacpClientError } from "../src/index.js";

function trailer(value: unknown): Metadata {
  const metadata = new Metadata();
  metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(typeof value === "string" ? value : JSON.stringify(value)));
  return metadata;
}

describe("MacpClientError", () => {
  it.each<[string, status, string, Metadata | undefined, Partial<MacpClientError>]>([
    ["a variant name", status.UNAUTHENTICATED, "Unauthenticated", undefined, { macpCode: "UNAUTHENTICATED" }],
    ["a variant with text", status.FAILED_PRECONDITION, "PolicyDenied: quorum not met", undefined, { macpCode: "POLICY_DENIED" }],
    ["a variant of a shared code", status.FAILED_PRECONDITION, "InvalidPayload", undefined, { macpCode: "INVALID_ENVELOPE" }],
    ["a registry code prefix", status.PERMISSION_DENIED, "FORBIDDEN: session access denied", undefined, { macpCode: "FORBIDDEN" }],
    ["a bare registry code", status.INVALID_ARGUMENT, "SESSION_NOT_OPEN", undefined, { macpCode: "SESSION_NOT_OPEN" }],
    ["a prefix that is no registry code", status.INVALID_ARGUMENT, "INVALID_REQUEST: supported_protocol_versions must not be empty", undefined, { macpCode: undefined }],
    ["prose", status.NOT_FOUND, "Session 's1' not found", undefined, { macpCode: undefined }],
    ["a word that only starts like a variant", status.INTERNAL, "Forbiddenness", undefined, { macpCode: undefined }],
    ["a reasons trailer", status.FAILED_PRECONDITION, "PolicyDenied: a; b", trailer({ reasons: ["a", "b"] }), { macpCode: "POLICY_DENIED", reasons: ["a", "b"] }],
    ["a code in the trailer", status.FAILED_PRECONDITION, "something", trailer({ code: "SESSION_NOT_FOUND" }), { macpCode: "SESSION_NOT_FOUND", reasons: undefined }],
    ["an unreadable trailer", status.FAILED_PRECONDITION, "Forbidden", trailer("{not json"), { macpCode: "FORBIDDEN", reasons: undefined }],
  ])("reads the MACP code from %s", (_case, grpcCode, details, trailers, expected) => {
    const error = new MacpClientError(grpcCode, details, trailers);
    expect(error).toMatchObject({ grpcCode, details, ...expected });
    expect(error.message).toBe(`${status[grpcCode]}: ${details}`);
  });

  it("converts grpc-js errors and passes its own through", () => {
    const serviceError = Object.assign(new Error("16 UNAUTHENTICATED: Unauthenticated"), {
      code: status.UNAUTHENTICATED,
      details: "Unauthenticated",
      metadata: new Metadata(),
    });
    const converted = MacpClientError.from(serviceError);
    expect(converted).toMatchObject({ grpcCode: status.UNAUTHENTICATED, macpCode: "UNAUTHENTICATED" });
    expect(MacpClientError.from(converted)).toBe(converted);
    expect(MacpClientError.from(new TypeError("boom"))).toMatchObject({ grpcCode: status.INTERNAL, details: "boom" });
  });
});
