import type { Metadata } from "@grpc/grpc-js";
import type { MetadataReader } from "./credentials.js";

/** Adapts grpc-js request metadata for `Authenticator.authenticate`; binary values are never credentials. */
export function metadataReader(md: Metadata): MetadataReader {
  return {
    get(key) {
      const first = md.get(key)[0];
      return typeof first === "string" ? first : undefined;
    },
  };
}
