import { Metadata } from "@grpc/grpc-js";

/**
 * How the client identifies itself. `bearer` is the normal credential (`authorization: Bearer …`,
 * a JWT or a static token, or in dev mode the sender name); `token` sends `x-macp-token`;
 * `agentId` sends the dev sender header `x-macp-agent-id`, honoured only by a dev-mode runtime
 * started with `MACP_ALLOW_DEV_SENDER_HEADER=1`.
 */
export interface ClientAuth {
  readonly bearer?: string;
  readonly token?: string;
  readonly agentId?: string;
}

/** Request metadata carrying `auth`. */
export function callMetadata(auth: ClientAuth | undefined): Metadata {
  const metadata = new Metadata();
  if (auth?.bearer !== undefined) metadata.set("authorization", `Bearer ${auth.bearer}`);
  if (auth?.token !== undefined) metadata.set("x-macp-token", auth.token);
  if (auth?.agentId !== undefined) metadata.set("x-macp-agent-id", auth.agentId);
  return metadata;
}
