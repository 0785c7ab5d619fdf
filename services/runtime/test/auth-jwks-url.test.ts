import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MacpError } from "@macp/protocol";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuthenticator, type Authenticator } from "../src/auth/index.js";
import { loadConfig } from "../src/config.js";

const ISSUER = "https://issuer.test";
const TTL_SECS = 300;

interface Issuer {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

let first: Issuer;
let second: Issuer;

beforeAll(async () => {
  const issuer = async (): Promise<Issuer> => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    return { privateKey, jwk: await exportJWK(publicKey) };
  };
  first = await issuer();
  second = await issuer();
});

/** A JWKS endpoint on 127.0.0.1 that counts downloads and serves whatever the test says. */
class JwksServer {
  downloads = 0;
  status = 200;
  keys: JWK[] = [];
  readonly #server: Server = createServer((_request, response) => {
    this.downloads += 1;
    response.writeHead(this.status, { "content-type": "application/json" });
    response.end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<URL> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    return new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

let server: JwksServer;
let now: number;
let auth: Authenticator;

beforeEach(async () => {
  server = new JwksServer();
  server.keys = [first.jwk];
  const url = await server.start();
  now = 1_700_000_000_000;
  const config = loadConfig({
    MACP_ALLOW_INSECURE: "1",
    MACP_AUTH_ISSUER: ISSUER,
    MACP_AUTH_JWKS_URL: url.href,
    MACP_AUTH_JWKS_TTL_SECS: String(TTL_SECS),
  });
  auth = createAuthenticator(config.auth, { clock: { now: () => now } });
});

afterEach(() => server.stop());

function tokenFrom(issuer: Issuer, sub = "agent-a"): Promise<string> {
  return new SignJWT({ sub, iss: ISSUER, aud: "macp-runtime", exp: Math.floor(now / 1000) + 3600 })
    .setProtectedHeader({ alg: "ES256" })
    .sign(issuer.privateKey);
}

async function senderOf(token: string): Promise<string> {
  try {
    return (await auth.authenticate({ authorization: `Bearer ${token}` })).sender;
  } catch (error) {
    return error instanceof MacpError ? error.code : String(error);
  }
}

describe("JWKS from MACP_AUTH_JWKS_URL", () => {
  it("downloads nothing until the first JWT arrives", async () => {
    await auth.ready();
    expect(server.downloads).toBe(0);
  });

  it("downloads once and serves later tokens from the cache within the TTL", async () => {
    expect(await senderOf(await tokenFrom(first, "a"))).toBe("a");
    now += (TTL_SECS - 1) * 1000;
    expect(await senderOf(await tokenFrom(first, "b"))).toBe("b");
    expect(server.downloads).toBe(1);
  });

  it("downloads again once the TTL has passed, picking up rotated keys", async () => {
    expect(await senderOf(await tokenFrom(first))).toBe("agent-a");
    server.keys = [second.jwk];
    expect(await senderOf(await tokenFrom(second))).toBe("UNAUTHENTICATED");
    now += TTL_SECS * 1000;
    expect(await senderOf(await tokenFrom(second))).toBe("agent-a");
    expect(await senderOf(await tokenFrom(first))).toBe("UNAUTHENTICATED");
    expect(server.downloads).toBe(2);
  });

  it("shares one download between concurrent requests", async () => {
    const tokens = await Promise.all(["a", "b", "c", "d"].map((sub) => tokenFrom(first, sub)));
    expect(await Promise.all(tokens.map(senderOf))).toEqual(["a", "b", "c", "d"]);
    expect(server.downloads).toBe(1);
  });

  it("refuses tokens while the endpoint fails, without caching the failure", async () => {
    server.status = 503;
    expect(await senderOf(await tokenFrom(first))).toBe("UNAUTHENTICATED");
    server.status = 200;
    expect(await senderOf(await tokenFrom(first))).toBe("agent-a");
    expect(server.downloads).toBe(2);
  });

  it("refuses tokens when the endpoint serves a JWKS without usable keys", async () => {
    server.keys = [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }];
    expect(await senderOf(await tokenFrom(first))).toBe("UNAUTHENTICATED");
  });
});
