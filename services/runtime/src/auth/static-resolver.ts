import { MacpError } from "@macp/protocol";
import type { Identity } from "./identity.js";
import type { RejectionListener, Resolver } from "./resolver.js";
import type { StaticTokenTable } from "./static-tokens.js";

/**
 * The static bearer-token resolver (protocol.md §5.2): claims every opaque token (`authorization`
 * bearer, else `x-macp-token`) without a `.`; dotted tokens belong to the JWT resolver. An
 * unknown token is refused outright, never passed on.
 */
export function staticTokenResolver(table: StaticTokenTable, onRejected: RejectionListener): Resolver {
  return {
    async resolve({ token }): Promise<Identity | undefined> {
      if (token === undefined || token.includes(".")) return undefined;
      const identity = table.lookup(token);
      if (identity === undefined) {
        onRejected("static token rejected: unknown token");
        throw new MacpError("Unauthenticated");
      }
      return identity;
    },
  };
}
