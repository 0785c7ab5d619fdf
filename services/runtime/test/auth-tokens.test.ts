import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { MacpError } from "@macp/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { createAuthenticator, metadataReader, type Authenticator, type Identity, type MetadataInput } from "../src/auth/index.js";
import { loadConfig } from "../src/config.js";

const scratch = mkdtempSync(join(tmpdir(), "macp-tokens-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function authenticatorFor(env: Record<string, string>): Authenticator {
  return createAuthenticator(loadConfig({ MACP_ALLOW_INSECURE: "1", ...env }).auth);
}

async function senderOf(auth: Authenticator, metadata: MetadataInput): Promise<string> {
  try {
    return (await auth.authenticate(metadata)).sender;
  } catch (error) {
    return error instanceof MacpError ? error.code : String(error);
  }
}

const TOKENS = [
  { token: "alice-token", sender: "alice" },
  { token: "bob-token", sender: "bob", allowed_modes: ["macp.mode.task.v1"], can_start_sessions: false, max_open_sessions: 2, can_manage_mode_registry: true, is_observer: true, unknown_key: 1 },
  { token: "dotted.token", sender: "carol" },
];

describe("static bearer tokens", () => {
  const shapes = [
    ["a bare array", JSON.stringify(TOKENS)],
    ['an object {"tokens": [...]}', JSON.stringify({ tokens: TOKENS })],
  ] as const;

  it.each(shapes)("accepts the token table as %s", async (_shape, json) => {
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_JSON: json });
    expect(await senderOf(auth, { authorization: "Bearer alice-token" })).toBe("alice");
    expect(auth.devMode).toBe(false);
  });

  it("maps entry fields to the identity, with defaults for the absent ones", async () => {
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_JSON: JSON.stringify(TOKENS) });
    expect(await auth.authenticate({ authorization: "Bearer alice-token" })).toEqual<Identity>({
      sender: "alice",
      allowedModes: null,
      canStartSessions: true,
      maxOpenSessions: null,
      canManageModeRegistry: false,
      isObserver: false,
    });
    expect(await auth.authenticate({ authorization: "Bearer bob-token" })).toEqual<Identity>({
      sender: "bob",
      allowedModes: new Set(["macp.mode.task.v1"]),
      canStartSessions: false,
      maxOpenSessions: 2,
      canManageModeRegistry: true,
      isObserver: true,
    });
  });

  it("treats an empty allowed_modes list as unrestricted", async () => {
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_JSON: JSON.stringify([{ token: "t", sender: "s", allowed_modes: [] }]) });
    expect((await auth.authenticate({ authorization: "Bearer t" })).allowedModes).toBeNull();
  });

  const headerCases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ["authorization bearer", { authorization: "Bearer alice-token" }, "alice"],
    ["x-macp-token fallback", { "x-macp-token": "bob-token" }, "bob"],
    ["authorization over x-macp-token", { authorization: "Bearer alice-token", "x-macp-token": "bob-token" }, "alice"],
    ["x-macp-token when authorization is not a Bearer value", { authorization: "Basic YWxpY2U6eA==", "x-macp-token": "bob-token" }, "bob"],
    ["the Bearer prefix is case-sensitive", { authorization: "bearer alice-token" }, "UNAUTHENTICATED"],
    ["the token is not trimmed", { authorization: "Bearer  alice-token" }, "UNAUTHENTICATED"],
    ["an unknown token is refused", { authorization: "Bearer mallory-token" }, "UNAUTHENTICATED"],
    ["an unknown authorization token does not fall through to x-macp-token", { authorization: "Bearer mallory-token", "x-macp-token": "bob-token" }, "UNAUTHENTICATED"],
    ["a dotted token is left to JWT and never matches a static entry", { authorization: "Bearer dotted.token" }, "UNAUTHENTICATED"],
    ["no credential", {}, "UNAUTHENTICATED"],
    ["only the dev sender header", { "x-macp-agent-id": "alice" }, "UNAUTHENTICATED"],
  ];

  it.each(headerCases)("%s", async (_case, metadata, expected) => {
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_JSON: JSON.stringify(TOKENS) });
    expect(await senderOf(auth, metadata)).toBe(expected);
  });

  it("keeps the last entry when a token repeats", async () => {
    const json = JSON.stringify([{ token: "t", sender: "first" }, { token: "t", sender: "last" }]);
    expect(await senderOf(authenticatorFor({ MACP_AUTH_TOKENS_JSON: json }), { authorization: "Bearer t" })).toBe("last");
  });

  it("reads MACP_AUTH_TOKENS_FILE when no inline table is given", async () => {
    const file = join(scratch, "tokens.json");
    writeFileSync(file, JSON.stringify({ tokens: TOKENS }));
    expect(await senderOf(authenticatorFor({ MACP_AUTH_TOKENS_FILE: file }), { "x-macp-token": "alice-token" })).toBe("alice");
  });

  it("prefers MACP_AUTH_TOKENS_JSON over MACP_AUTH_TOKENS_FILE", async () => {
    const file = join(scratch, "other-tokens.json");
    writeFileSync(file, JSON.stringify([{ token: "file-token", sender: "from-file" }]));
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_FILE: file, MACP_AUTH_TOKENS_JSON: JSON.stringify(TOKENS) });
    expect(await senderOf(auth, { authorization: "Bearer file-token" })).toBe("UNAUTHENTICATED");
    expect(await senderOf(auth, { authorization: "Bearer alice-token" })).toBe("alice");
  });

  it("never reports a token value to the rejection listener", async () => {
    const reasons: string[] = [];
    const config = loadConfig({ MACP_ALLOW_INSECURE: "1", MACP_AUTH_TOKENS_JSON: JSON.stringify(TOKENS) });
    const auth = createAuthenticator(config.auth, { onRejected: (reason) => reasons.push(reason) });
    await expect(auth.authenticate({ authorization: "Bearer secret-guess" })).rejects.toThrow("Unauthenticated");
    expect(reasons).toEqual(["static token rejected: unknown token"]);
  });
});

describe("dev fallback", () => {
  const devCases: ReadonlyArray<readonly [string, Record<string, string>, Record<string, string>, string]> = [
    ["authorization bearer names the sender", {}, { authorization: "Bearer alice" }, "alice"],
    ["x-macp-token names the sender", {}, { "x-macp-token": "bob" }, "bob"],
    ["authorization wins over x-macp-token", {}, { authorization: "Bearer alice", "x-macp-token": "bob" }, "alice"],
    ["any bearer value is accepted verbatim, dots included", {}, { authorization: "Bearer a.b.c" }, "a.b.c"],
    ["no credential is refused (no anonymous identity)", {}, {}, "UNAUTHENTICATED"],
    ["an empty bearer is refused", {}, { authorization: "Bearer " }, "UNAUTHENTICATED"],
    ["the dev sender header is ignored by default", {}, { "x-macp-agent-id": "carol" }, "UNAUTHENTICATED"],
    ["the dev sender header names the sender when enabled", { MACP_ALLOW_DEV_SENDER_HEADER: "1" }, { "x-macp-agent-id": "carol" }, "carol"],
    ["an explicit bearer wins over the dev sender header", { MACP_ALLOW_DEV_SENDER_HEADER: "1" }, { authorization: "Bearer alice", "x-macp-agent-id": "carol" }, "alice"],
    ["x-macp-token wins over the dev sender header", { MACP_ALLOW_DEV_SENDER_HEADER: "1" }, { "x-macp-token": "bob", "x-macp-agent-id": "carol" }, "bob"],
    ["an empty bearer is not replaced by the dev sender header", { MACP_ALLOW_DEV_SENDER_HEADER: "1" }, { authorization: "Bearer ", "x-macp-agent-id": "carol" }, "UNAUTHENTICATED"],
    ["an empty dev sender header is refused", { MACP_ALLOW_DEV_SENDER_HEADER: "1" }, { "x-macp-agent-id": "" }, "UNAUTHENTICATED"],
  ];

  it.each(devCases)("%s", async (_case, env, metadata, expected) => {
    expect(await senderOf(authenticatorFor(env), metadata)).toBe(expected);
  });

  it("grants full rights except observer", async () => {
    const auth = authenticatorFor({});
    expect(auth.devMode).toBe(true);
    expect(await auth.authenticate({ authorization: "Bearer alice" })).toEqual<Identity>({
      sender: "alice",
      allowedModes: null,
      canStartSessions: true,
      maxOpenSessions: null,
      canManageModeRegistry: true,
      isObserver: false,
    });
  });

  it("is off as soon as static tokens are configured", async () => {
    const auth = authenticatorFor({ MACP_AUTH_TOKENS_JSON: JSON.stringify(TOKENS) });
    expect(await senderOf(auth, { authorization: "Bearer anybody" })).toBe("UNAUTHENTICATED");
  });

  it("is off as soon as JWT is configured", async () => {
    const jwks = JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0" }] });
    const auth = authenticatorFor({ MACP_AUTH_ISSUER: "https://issuer.test", MACP_AUTH_JWKS_JSON: jwks });
    expect(auth.devMode).toBe(false);
    expect(await senderOf(auth, { authorization: "Bearer anybody" })).toBe("UNAUTHENTICATED");
  });
});

describe("metadata input", () => {
  it("reads grpc-js Metadata through metadataReader, ignoring binary values", async () => {
    const md = new Metadata();
    md.set("x-macp-token-bin", Buffer.from("ignored"));
    md.set("authorization", "Bearer alice");
    md.add("authorization", "Bearer second-value-ignored");
    const reader = metadataReader(md);
    expect(reader.get("authorization")).toBe("Bearer alice");
    expect(reader.get("x-macp-token-bin")).toBeUndefined();
    expect(reader.get("absent")).toBeUndefined();
    expect(await senderOf(authenticatorFor({}), reader)).toBe("alice");
  });

  it("matches record keys case-insensitively and takes the first of repeated values", async () => {
    const auth = authenticatorFor({});
    expect(await senderOf(auth, { Authorization: "Bearer alice" })).toBe("alice");
    expect(await senderOf(auth, { "X-MACP-Token": ["bob", "other"] })).toBe("bob");
  });
});
