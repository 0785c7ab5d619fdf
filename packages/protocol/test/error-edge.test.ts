import { describe, expect, it } from "vitest";
import {
  ERROR_CODE_TRAILER,
  ERROR_DETAILS_TRAILER,
  GrpcStatus,
  IDENTIFIER_LIMITS,
  MacpError,
  boundText,
  decodeErrorTrailers,
  encodeErrorTrailers,
  grpcStatusForCode,
  grpcStatusOf,
  identifierLengthError,
} from "../src/index.js";
import type { EdgeErrorVariant, ErrorTrailer, GrpcStatusCode, MacpErrorCode, TrailerSource } from "../src/index.js";

const utf8 = (text: string): number => new TextEncoder().encode(text).length;

describe("boundText", () => {
  it("keeps text within the bound unchanged", () => {
    expect(boundText("Session 's1' not found", 1024)).toBe("Session 's1' not found");
    expect(boundText("é".repeat(512), 1024)).toBe("é".repeat(512));
  });

  it("cuts longer text to the bound and says how long it was", () => {
    const bounded = boundText("x".repeat(1_000_000), 1024);
    expect(utf8(bounded)).toBeLessThanOrEqual(1024);
    expect(bounded).toMatch(/^x+…\[truncated, 1000000 bytes\]$/);
  });

  it.each([
    ["two-byte", "é"],
    ["three-byte", "€"],
    ["four-byte (surrogate pair)", "😀"],
  ])("never splits a %s character", (_name, char) => {
    for (let bound = 40; bound < 48; bound++) {
      const bounded = boundText(`a${char.repeat(100)}`, bound);
      expect(utf8(bounded)).toBeLessThanOrEqual(bound);
      expect(bounded).not.toContain("\uFFFD");
      expect(bounded.replace(/…\[truncated, \d+ bytes\]$/, "")).toMatch(new RegExp(`^a(${char})*$`, "u"));
    }
  });
});

describe("identifier limits", () => {
  it.each(Object.entries(IDENTIFIER_LIMITS))("%s: %i bytes pass, one more is refused without quoting it", (kind, limit) => {
    const key = kind as keyof typeof IDENTIFIER_LIMITS;
    expect(identifierLengthError(key, "f", "a".repeat(limit), "InvalidEnvelope")).toBeUndefined();
    const error = identifierLengthError(key, "f", "a".repeat(limit + 1), "InvalidEnvelope");
    expect(error).toMatchObject({ code: "INVALID_ENVELOPE", message: `f is ${limit + 1} bytes, over the limit of ${limit}` });
  });

  it("counts UTF-8 bytes, not characters", () => {
    const limit = IDENTIFIER_LIMITS.sessionId;
    expect(identifierLengthError("sessionId", "session_id", "é".repeat(limit / 2), "InvalidSessionId")).toBeUndefined();
    expect(identifierLengthError("sessionId", "session_id", "é".repeat(limit / 2 + 1), "InvalidSessionId")?.code).toBe(
      "INVALID_SESSION_ID",
    );
  });
});

describe("statuses of the edge variants", () => {
  it.each<[EdgeErrorVariant, MacpErrorCode, GrpcStatusCode]>([
    ["InvalidRequest", "INVALID_ENVELOPE", GrpcStatus.INVALID_ARGUMENT],
    ["SessionNotFound", "SESSION_NOT_FOUND", GrpcStatus.NOT_FOUND],
    ["PolicyNotFound", "UNKNOWN_POLICY_VERSION", GrpcStatus.NOT_FOUND],
    ["AgentNotFound", "INVALID_ENVELOPE", GrpcStatus.NOT_FOUND],
    ["StreamLagged", "RATE_LIMITED", GrpcStatus.RESOURCE_EXHAUSTED],
  ])("%s: code %s, status %i", (variant, code, status) => {
    const error = new MacpError(variant);
    expect([error.code, grpcStatusOf(error)]).toEqual([code, status]);
  });

  it("every other variant takes its code's status", () => {
    for (const variant of ["SessionNotOpen", "TtlExpired", "UnknownSession", "InvalidSessionId", "Forbidden"] as const) {
      const error = new MacpError(variant);
      expect(grpcStatusOf(error)).toBe(grpcStatusForCode(error.code));
    }
  });

  it("carries an ES2022 cause", () => {
    const cause = new Error("disk full");
    expect(new MacpError("StorageFailed", "internal error", undefined, { cause }).cause).toBe(cause);
    expect(MacpError.fromCode("INTERNAL_ERROR", "x", undefined, { cause }).cause).toBe(cause);
  });
});

/** A trailer source over what encodeErrorTrailers produced. */
function received(trailers: readonly ErrorTrailer[]): TrailerSource {
  return { get: (key) => trailers.filter((trailer) => trailer.key === key).map((trailer) => trailer.value) };
}

describe("error trailers", () => {
  it("encode the registry code of every error, and the details of a policy denial", () => {
    expect(encodeErrorTrailers(new MacpError("SessionNotFound"))).toEqual([{ key: ERROR_CODE_TRAILER, value: "SESSION_NOT_FOUND" }]);
    const denial = encodeErrorTrailers(MacpError.policyDenied(["r1"]));
    expect(denial.map((trailer) => trailer.key)).toEqual([ERROR_CODE_TRAILER, ERROR_DETAILS_TRAILER]);
  });

  it("decode what they encode", () => {
    expect(decodeErrorTrailers(received(encodeErrorTrailers(new MacpError("TtlExpired"))))).toEqual({
      code: "SESSION_NOT_OPEN",
      reasons: undefined,
    });
    expect(decodeErrorTrailers(received(encodeErrorTrailers(MacpError.policyDenied(["a", "b"]))))).toEqual({
      code: "POLICY_DENIED",
      reasons: ["a", "b"],
    });
  });

  it.each<[string, readonly ErrorTrailer[], ReturnType<typeof decodeErrorTrailers>]>([
    ["no trailers", [], { code: undefined, reasons: undefined }],
    ["an unknown code", [{ key: ERROR_CODE_TRAILER, value: "TEAPOT" }], { code: undefined, reasons: undefined }],
    ["a code as bytes", [{ key: ERROR_CODE_TRAILER, value: new TextEncoder().encode("FORBIDDEN") }], { code: "FORBIDDEN", reasons: undefined }],
    [
      "only the details trailer (the reference runtime's policy denial)",
      [{ key: ERROR_DETAILS_TRAILER, value: new TextEncoder().encode('{"reasons":["r"]}') }],
      { code: "POLICY_DENIED", reasons: ["r"] },
    ],
    ["details that are no JSON", [{ key: ERROR_DETAILS_TRAILER, value: "{nope" }], { code: undefined, reasons: undefined }],
    ["reasons that are no strings", [{ key: ERROR_DETAILS_TRAILER, value: '{"reasons":[1]}' }], { code: undefined, reasons: undefined }],
  ])("decode %s", (_case, trailers, expected) => {
    expect(decodeErrorTrailers(received(trailers))).toEqual(expected);
  });

  it("decode nothing from absent trailers", () => {
    expect(decodeErrorTrailers(undefined)).toEqual({ code: undefined, reasons: undefined });
  });
});
