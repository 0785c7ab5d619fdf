export { createAuthenticator } from "./authenticator.js";
export type {
  AuthConfig,
  Authenticator,
  AuthenticatorOptions,
  JwksSource,
  JwtSettings,
} from "./authenticator.js";
export { authorizeMode, authorizeRegistryManagement, canReadSession } from "./authorization.js";
export type { SessionParties } from "./authorization.js";
export type { MetadataInput, MetadataReader } from "./credentials.js";
export { metadataReader } from "./grpc-metadata.js";
export { devIdentity } from "./identity.js";
export type { Identity } from "./identity.js";
export { JWT_ALGORITHMS, JwkSet, parseJwks } from "./jwks.js";
export type { JwtAlgorithm, ParsedJwks } from "./jwks.js";
export type { RejectionListener } from "./resolver.js";
export { StaticTokenTable, parseStaticTokens } from "./static-tokens.js";
export type { ParsedStaticTokens } from "./static-tokens.js";
