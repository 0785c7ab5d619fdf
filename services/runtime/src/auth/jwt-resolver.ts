import { MacpError } from "@macp/protocol";
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import type { Identity } from "./identity.js";
import { isJwtAlgorithm } from "./jwks.js";
import type { Clock } from "@macp/core";
import type { KeySource } from "./key-source.js";
import type { RejectionListener, Resolver } from "./resolver.js";
import { identityFromJwtClaims } from "./scopes.js";

/** Clock skew tolerated on `exp` (and `nbf`), in seconds. */
const LEEWAY_SECONDS = 60;

/** Settings of {@link jwtResolver}. */
export interface JwtResolverOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySource;
  /** Wall clock in Unix milliseconds, for token lifetimes. */
  readonly clock: Clock;
  readonly onRejected: RejectionListener;
}

/**
 * The JWT bearer resolver (protocol.md §5.1). Claims only `authorization` bearer tokens that
 * contain a `.`. The header's `alg` must be RS256, ES256 or HS256 and selects which keys are
 * tried: every key of that family in JWKS order, `kid` ignored, first success wins. `iss` must
 * match, `aud` must contain the audience, `exp` is required (60 s leeway), `sub` becomes the sender.
 * Deliberately stricter than the reference: a present `nbf` is honoured (same leeway).
 */
export function jwtResolver(options: JwtResolverOptions): Resolver {
  function reject(reason: string): never {
    options.onRejected(`JWT rejected: ${reason}`);
    throw new MacpError("Unauthenticated");
  }

  async function verify(token: string): Promise<JWTPayload> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return reject("malformed token header");
    }
    if (!isJwtAlgorithm(alg)) return reject(`algorithm ${JSON.stringify(alg)} is not allowed`);
    let candidates;
    try {
      candidates = (await options.keys.keys()).get(alg) ?? [];
    } catch (error) {
      return reject(`no verification keys (${error instanceof Error ? error.message : String(error)})`);
    }
    for (const key of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [alg],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: LEEWAY_SECONDS,
          currentDate: new Date(options.clock.now()),
          requiredClaims: ["exp", "sub"],
        });
        return payload;
      } catch (error) {
        // Only a signature mismatch means "try the next key"; any other failure is the token's fault.
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        return reject(describeJoseError(error));
      }
    }
    return reject(`signature matches no ${alg} key`);
  }

  return {
    async resolve({ bearer }): Promise<Identity | undefined> {
      if (bearer === undefined || !bearer.includes(".")) return undefined;
      const payload = await verify(bearer);
      if (typeof payload.sub !== "string" || payload.sub === "") return reject("sub must be a non-empty string");
      try {
        return identityFromJwtClaims(payload.sub, payload["macp_scopes"]);
      } catch (error) {
        return reject(error instanceof Error ? error.message : "invalid macp_scopes");
      }
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
    return `claim ${error.claim} ${error.reason}`;
  }
  return error instanceof errors.JOSEError ? error.code : "invalid token";
}
