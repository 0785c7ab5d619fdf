import { base64url, importJWK, type CryptoKey, type JWK } from "jose";
import { isJsonFields, type JsonFields } from "./json-fields.js";

/** The JWS algorithms a token may use (protocol.md §5.1); everything else, `none` included, is rejected. */
export const JWT_ALGORITHMS = ["RS256", "ES256", "HS256"] as const;

/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** True when a token header's `alg` is on the allow-list. */
export function isJwtAlgorithm(alg: unknown): alg is JwtAlgorithm {
  return typeof alg === "string" && (JWT_ALGORITHMS as readonly string[]).includes(alg);
}

/** Verification keys ready for jose, in JWKS order, per algorithm (only keys of that algorithm's family). */
export type VerificationKeys = ReadonlyMap<JwtAlgorithm, readonly (CryptoKey | Uint8Array)[]>;

type KeyMaterial =
  | { readonly alg: "RS256" | "ES256"; readonly jwk: JWK; readonly where: string }
  | { readonly alg: "HS256"; readonly secret: Uint8Array; readonly where: string };

/**
 * The usable keys of a JWKS document. HMAC secrets are key material, so they live in a private
 * field and never appear when a configuration is logged.
 */
export class JwkSet {
  readonly #keys: readonly KeyMaterial[];

  constructor(keys: readonly KeyMaterial[]) {
    this.#keys = keys;
  }

  /** Number of verification keys (an `oct` key may contribute two readings of its secret). */
  get size(): number {
    return this.#keys.length;
  }

  /** Imports the keys with jose; rejects naming the first key jose refuses. */
  async importKeys(): Promise<VerificationKeys> {
    const byAlgorithm = new Map<JwtAlgorithm, (CryptoKey | Uint8Array)[]>(JWT_ALGORITHMS.map((alg) => [alg, []]));
    for (const material of this.#keys) {
      const key = material.alg === "HS256" ? material.secret : await importPublicKey(material);
      byAlgorithm.get(material.alg)?.push(key);
    }
    return byAlgorithm;
  }

  toJSON(): { keys: number } {
    return { keys: this.size };
  }
}

async function importPublicKey(material: { alg: "RS256" | "ES256"; jwk: JWK; where: string }): Promise<CryptoKey> {
  try {
    return await importJWK(material.jwk, material.alg) as CryptoKey;
  } catch {
    throw new Error(`${material.where} is not a valid ${material.alg} public key`);
  }
}

/** A parsed JWKS plus the keys that were skipped as unsupported. */
export interface ParsedJwks {
  readonly set: JwkSet;
  readonly skipped: readonly string[];
}

/**
 * Parses a JWKS document with the reference runtime's rules (protocol.md §5.1): `kty` RSA uses
 * `n`/`e`, EC uses `x`/`y` on P-256 (assumed when `crv` is absent), `oct` uses `k`; `kid`, `use`,
 * `alg` and `key_ops` are ignored; keys of other types or curves are skipped; zero usable keys
 * is an error. A supported key with missing or malformed members is an error rather than being
 * skipped, so a typo cannot silently disable a key. Messages never contain key material.
 */
export function parseJwks(text: string): ParsedJwks {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error("is not valid JSON");
  }
  const keys = isJsonFields(document) ? document["keys"] : undefined;
  if (!Array.isArray(keys)) throw new Error('must be a JSON object with a "keys" array');
  const materials: KeyMaterial[] = [];
  const skipped: string[] = [];
  keys.forEach((key: unknown, index) => {
    const where = `keys[${index}]`;
    if (!isJsonFields(key)) throw new Error(`${where} must be an object`);
    const parsed = parseKey(key, where);
    if (typeof parsed === "string") skipped.push(`${where}: ${parsed}`);
    else materials.push(...parsed);
  });
  if (materials.length === 0) {
    throw new Error("has no usable keys (supported: RSA, EC P-256, oct)");
  }
  return { set: new JwkSet(materials), skipped };
}

/** The key's materials, or the reason it is skipped. */
function parseKey(key: JsonFields, where: string): KeyMaterial[] | string {
  const kty = key["kty"];
  switch (kty) {
    case "RSA": {
      const n = base64urlMember(key, "n", where);
      const e = base64urlMember(key, "e", where);
      const bits = bitLength(n.bytes);
      // jose (like the reference's ring) refuses RS256 keys below 2048 bits at verification time.
      if (bits < 2048) throw new Error(`${where}: RSA modulus has ${bits} bits; at least 2048 are required`);
      return [{ alg: "RS256", jwk: { kty: "RSA", n: n.text, e: e.text }, where }];
    }
    case "EC": {
      const crv = key["crv"] ?? "P-256";
      if (crv !== "P-256") return `curve ${JSON.stringify(crv)} is not supported (P-256 only)`;
      const x = base64urlMember(key, "x", where);
      const y = base64urlMember(key, "y", where);
      if (x.bytes.length !== 32 || y.bytes.length !== 32) {
        throw new Error(`${where}: P-256 coordinates x and y must be 32 bytes each`);
      }
      return [{ alg: "ES256", jwk: { kty: "EC", crv: "P-256", x: x.text, y: y.text }, where }];
    }
    case "oct":
      return octSecrets(key, where).map((secret) => ({ alg: "HS256", secret, where }));
    default:
      return `kty ${JSON.stringify(kty)} is not supported`;
  }
}

function base64urlMember(key: JsonFields, member: string, where: string): { text: string; bytes: Uint8Array } {
  const value = key[member];
  const bytes = typeof value === "string" ? decodeBase64url(value) : undefined;
  if (typeof value !== "string" || bytes === undefined) {
    throw new Error(`${where}.${member} must be a non-empty base64url string`);
  }
  return { text: value, bytes };
}

function decodeBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return base64url.decode(text);
  } catch {
    return undefined;
  }
}

function bitLength(bytes: Uint8Array): number {
  const start = bytes.findIndex((byte) => byte !== 0);
  if (start === -1) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start] ?? 0));
}

const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The secrets an `oct` key may stand for. First the reference runtime's reading (`k` as padded
 * standard base64, else the raw UTF-8 bytes of `k`) so its existing deployments keep working;
 * then, if different, the RFC 7518 reading (base64url) that standard JWKS tooling produces.
 * Both come from the same configured secret, so accepting either widens nothing.
 */
function octSecrets(key: JsonFields, where: string): Uint8Array[] {
  const k = key["k"];
  if (typeof k !== "string" || k === "") throw new Error(`${where}.k must be a non-empty string`);
  const standard = Buffer.from(k, "base64");
  const canonical = PADDED_BASE64.test(k) && standard.toString("base64") === k;
  const reference = new Uint8Array(canonical ? standard : Buffer.from(k, "utf8"));
  const rfc = decodeBase64url(k);
  return rfc === undefined || Buffer.from(rfc).equals(reference) ? [reference] : [reference, rfc];
}
