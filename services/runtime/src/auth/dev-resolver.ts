import { devIdentity, type Identity } from "./identity.js";
import type { Resolver } from "./resolver.js";

/**
 * The dev fallback (protocol.md §5.3, project decision #2), used only when no other resolver is
 * configured: the bearer value, else `x-macp-token`, names the sender. With `allowAgentIdHeader`
 * the `x-macp-agent-id` header is honoured too, but only when no token is present: an explicit
 * credential always decides. An empty value is never an identity (no anonymous access).
 */
export function devResolver(allowAgentIdHeader: boolean): Resolver {
  return {
    async resolve({ token, agentId }): Promise<Identity | undefined> {
      if (token !== undefined) return token === "" ? undefined : devIdentity(token);
      if (allowAgentIdHeader && agentId !== undefined && agentId !== "") return devIdentity(agentId);
      return undefined;
    },
  };
}
