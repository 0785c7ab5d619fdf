import type { Credentials } from "./credentials.js";
import type { Identity } from "./identity.js";

/**
 * One link of the authentication chain (protocol.md §5.1): resolves to an identity ("mine,
 * valid"), to `undefined` ("not mine", try the next resolver), or rejects with
 * `MacpError("Unauthenticated")` ("mine, invalid", stop).
 */
export interface Resolver {
  resolve(credentials: Credentials): Promise<Identity | undefined>;
}

/** Reports why a credential was refused, for debug logging; never receives credential values. */
export type RejectionListener = (reason: string) => void;
