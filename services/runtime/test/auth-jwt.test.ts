import { MacpError } from "@macp/protocol";
import {
  SignJWT,
  UnsecuredJWT,
  base64url,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { authorizeMode, createAuthenticator, type Authenticator, type Identity } from "../src/auth/index.js";
import { loadConfig } from "../src/config.js";

const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const ISSUER = "https://issuer.test";
const clock = { now: () => NOW_MS };

interface SigningKey {
  readonly alg: "RS256" | "ES256" | "HS256";
  readonly sign: CryptoKey | Uint8Array;
  readonly jwk: JWK;
}

let rsa: SigningKey;
let ec: SigningKey;
let hmac: SigningKey;
let otherRsa: SigningKey;
let rs384: CryptoKey;

async function keyPair(alg: "RS256" | "ES256"): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { alg, sign: privateKey, jwk: await exportJWK(publicKey) };
}

function hmacKey(secret: Uint8Array): SigningKey {
  return { alg: "HS256", sign: secret, jwk: { kty: "oct", k: base64url.encode(secret) } };
}

beforeAll(async () => {
  rsa = await keyPair("RS256");
  ec = await keyPair("ES256");
  otherRsa = await keyPair("RS256");
  hmac = hmacKey(new TextEncoder().encode("a-32-byte-long-shared-hmac-key!!"));
  rs384 = (await generateKeyPair("RS384")).privateKey;
});

function authenticator(jwks: readonly JWK[], extraEnv: Record<string, string> = {}): Authenticator {
  const config = loadConfig({
    MACP_ALLOW_INSECURE: "1",
    MACP_AUTH_ISSUER: ISSUER,
    MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: jwks }),
    ...extraEnv,
  });
  return createAuthenticator(config.auth, { clock });
}

function sign(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: "agent-a", iss: ISSUER, aud: "macp-runtime", exp: NOW_S + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, ...header })
    .sign(key.sign);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function outcome(auth: Authenticator, metadata: Record<string, string>): Promise<Identity | string> {
  try {
    return await auth.authenticate(metadata);
  } catch (error) {
    return error instanceof MacpError ? error.code : String(error);
  }
}

describe("JWT resolver", () => {
  it.each(["RS256", "ES256", "HS256"] as const)("accepts a valid %s token and takes the sender from sub", async (alg) => {
    const key = { RS256: rsa, ES256: ec, HS256: hmac }[alg];
    const auth = authenticator([key.jwk]);
    const identity = await auth.authenticate(bearer(await sign(key)));
    expect(identity).toEqual({
      sender: "agent-a",
      allowedModes: null,
      canStartSessions: true,
      maxOpenSessions: null,
      canManageModeRegistry: false,
      isObserver: false,
    });
    expect(auth.devMode).toBe(false);
  });

  const rejections: ReadonlyArray<readonly [string, () => Promise<string>]> = [
    ["expired beyond the 60 s leeway", () => sign(rsa, { exp: NOW_S - 90 })],
    ["without exp", () => new SignJWT({ sub: "agent-a", iss: ISSUER, aud: "macp-runtime" }).setProtectedHeader({ alg: "RS256" }).sign(rsa.sign)],
    ["for another audience", () => sign(rsa, { aud: "someone-else" })],
    ["without an audience", () => sign(rsa, { aud: undefined })],
    ["from another issuer", () => sign(rsa, { iss: "https://evil.test" })],
    ["signed with a key outside the JWKS", () => sign(otherRsa)],
    ["with a forged signature", async () => `${(await sign(rsa)).slice(0, -6)}AAAAAA`],
    ["with alg none", async () => new UnsecuredJWT({ sub: "agent-a", iss: ISSUER, aud: "macp-runtime", exp: NOW_S + 300 }).encode()],
    ["with alg RS384", () => new SignJWT({ sub: "agent-a", iss: ISSUER, aud: "macp-runtime", exp: NOW_S + 300 }).setProtectedHeader({ alg: "RS384" }).sign(rs384)],
    ["without sub", () => sign(rsa, { sub: undefined })],
    ["with an empty sub", () => sign(rsa, { sub: "" })],
    ["not yet valid (nbf beyond leeway)", () => sign(rsa, { nbf: NOW_S + 300 })],
    ["with a malformed macp_scopes claim", () => sign(rsa, { macp_scopes: "everything" })],
    ["with a mistyped scope", () => sign(rsa, { macp_scopes: { can_start_sessions: "yes" } })],
    ["with a negative max_open_sessions", () => sign(rsa, { macp_scopes: { max_open_sessions: -1 } })],
    ["that is not a JWT at all", async () => "not.a.jwt"],
  ];

  it.each(rejections)("rejects a token %s as Unauthenticated", async (_case, token) => {
    const auth = authenticator([rsa.jwk]);
    expect(await outcome(auth, bearer(await token()))).toBe("UNAUTHENTICATED");
  });

  it("accepts a token expired for less than the leeway", async () => {
    const auth = authenticator([rsa.jwk]);
    expect((await auth.authenticate(bearer(await sign(rsa, { exp: NOW_S - 30 })))).sender).toBe("agent-a");
  });

  it("accepts an audience array that contains the configured audience", async () => {
    const auth = authenticator([rsa.jwk]);
    const token = await sign(rsa, { aud: ["other", "macp-runtime"] });
    expect((await auth.authenticate(bearer(token))).sender).toBe("agent-a");
  });

  it("checks the audience configured in MACP_AUTH_AUDIENCE", async () => {
    const auth = authenticator([rsa.jwk], { MACP_AUTH_AUDIENCE: "custom" });
    expect(await outcome(auth, bearer(await sign(rsa)))).toBe("UNAUTHENTICATED");
    expect((await auth.authenticate(bearer(await sign(rsa, { aud: "custom" })))).sender).toBe("agent-a");
  });

  it("ignores kid and tries every key of the token's algorithm in order", async () => {
    const auth = authenticator([{ ...otherRsa.jwk, kid: "first" }, ec.jwk, { ...rsa.jwk, kid: "second" }]);
    const token = await sign(rsa, {}, { kid: "unknown" });
    expect((await auth.authenticate(bearer(token))).sender).toBe("agent-a");
  });

  it("never verifies an HS256 token against an RSA key", async () => {
    const auth = authenticator([rsa.jwk]);
    const confused = hmacKey(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    expect(await outcome(auth, bearer(await sign(confused)))).toBe("UNAUTHENTICATED");
  });

  it("reads JWTs only from the authorization header", async () => {
    const auth = authenticator([rsa.jwk]);
    expect(await outcome(auth, { "x-macp-token": await sign(rsa) })).toBe("UNAUTHENTICATED");
  });

  it("rejects an opaque bearer when only JWT is configured", async () => {
    const auth = authenticator([rsa.jwk]);
    expect(await outcome(auth, bearer("opaque-token"))).toBe("UNAUTHENTICATED");
  });

  it("rejects a request without credentials", async () => {
    expect(await outcome(authenticator([rsa.jwk]), {})).toBe("UNAUTHENTICATED");
  });

  it("reports why a token was refused without revealing it", async () => {
    const reasons: string[] = [];
    const config = loadConfig({
      MACP_ALLOW_INSECURE: "1",
      MACP_AUTH_ISSUER: ISSUER,
      MACP_AUTH_JWKS_JSON: JSON.stringify({ keys: [rsa.jwk] }),
    });
    const auth = createAuthenticator(config.auth, { clock, onRejected: (reason) => reasons.push(reason) });
    const token = await sign(rsa, { exp: NOW_S - 600 });
    await expect(auth.authenticate(bearer(token))).rejects.toThrow("Unauthenticated");
    expect(reasons).toEqual(["JWT rejected: claim exp check_failed"]);
    expect(reasons.join()).not.toContain(token.split(".")[2]);
  });
});

describe("macp_scopes claim", () => {
  const cases: ReadonlyArray<readonly [string, unknown, Partial<Identity>]> = [
    ["absent: permissive defaults", undefined, { allowedModes: null, canStartSessions: true, maxOpenSessions: null, canManageModeRegistry: false, isObserver: false }],
    ["null: permissive defaults", null, { allowedModes: null, canStartSessions: true }],
    ["empty object: permissive defaults", {}, { allowedModes: null, canStartSessions: true, canManageModeRegistry: false }],
    [
      "every field set",
      { allowed_modes: ["macp.mode.task.v1"], can_start_sessions: false, max_open_sessions: 3, can_manage_mode_registry: true, is_observer: true },
      { allowedModes: new Set(["macp.mode.task.v1"]), canStartSessions: false, maxOpenSessions: 3, canManageModeRegistry: true, isObserver: true },
    ],
    ["allowed_modes: [] is an empty set, not unrestricted", { allowed_modes: [] }, { allowedModes: new Set() }],
  ];

  it.each(cases)("%s", async (_case, scopes, expected) => {
    const auth = authenticator([hmac.jwk]);
    const claims = scopes === undefined ? {} : { macp_scopes: scopes };
    expect(await auth.authenticate(bearer(await sign(hmac, claims)))).toMatchObject(expected);
  });

  it("forbids every Send, ambient ones included, when allowed_modes is []", async () => {
    const identity = await authenticator([hmac.jwk]).authenticate(bearer(await sign(hmac, { macp_scopes: { allowed_modes: [] } })));
    for (const [messageType, mode] of [["SessionStart", "macp.mode.decision.v1"], ["Vote", "macp.mode.decision.v1"], ["Signal", ""]]) {
      expect(authorizeMode(identity, messageType as string, mode as string)?.code).toBe("FORBIDDEN");
    }
  });
});

describe("oct keys", () => {
  function octAuthenticator(k: string): Authenticator {
    return authenticator([{ kty: "oct", k }]);
  }

  it("reads k as padded standard base64, as the reference runtime does", async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => 250 - i);
    const k = Buffer.from(secret).toString("base64");
    expect(k).toMatch(/[+/=]/);
    const token = await sign(hmacKey(secret));
    expect((await octAuthenticator(k).authenticate(bearer(token))).sender).toBe("agent-a");
  });

  it("falls back to the raw bytes of k when it is not standard base64", async () => {
    const k = "plain text secret, not base64!";
    const token = await sign(hmacKey(new TextEncoder().encode(k)));
    expect((await octAuthenticator(k).authenticate(bearer(token))).sender).toBe("agent-a");
  });

  it("also reads k as RFC 7518 base64url, as standard JWKS tooling writes it", async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => 250 - i);
    const k = base64url.encode(secret);
    expect(k).toMatch(/[-_]/);
    const token = await sign(hmacKey(secret));
    expect((await octAuthenticator(k).authenticate(bearer(token))).sender).toBe("agent-a");
  });
});

describe("inline JWKS readiness", () => {
  it("resolves ready() when every key imports", async () => {
    await expect(authenticator([rsa.jwk, ec.jwk, hmac.jwk]).ready()).resolves.toBeUndefined();
  });

  it("rejects ready() naming MACP_AUTH_JWKS_JSON when a key is not a valid public key", async () => {
    // Well-formed coordinates that are not a point on P-256.
    const offCurve = { kty: "EC", crv: "P-256", x: base64url.encode(new Uint8Array(32).fill(1)), y: base64url.encode(new Uint8Array(32).fill(2)) };
    await expect(authenticator([offCurve]).ready()).rejects.toThrow(/MACP_AUTH_JWKS_JSON keys\[0\] is not a valid ES256 public key/);
  });

  it("refuses tokens when an inline key could not be imported, even if ready() was never awaited", async () => {
    const offCurve = { kty: "EC", crv: "P-256", x: base64url.encode(new Uint8Array(32).fill(1)), y: base64url.encode(new Uint8Array(32).fill(2)) };
    const auth = authenticator([offCurve, rsa.jwk]);
    expect(await outcome(auth, bearer(await sign(rsa)))).toBe("UNAUTHENTICATED");
  });
});
