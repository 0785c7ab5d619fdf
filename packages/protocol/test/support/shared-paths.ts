import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");

/** The repository's `proto/` tree. */
export const PROTO_DIR = resolve(repoRoot, "proto");

/** The spec digests (`wire.md`, `protocol.md`, …); `MACP_SPEC_DIR` overrides. */
export const SPEC_DIR = process.env["MACP_SPEC_DIR"] ?? resolve(repoRoot, "../shared/spec");

/** The read-only conformance vectors; `MACP_CONFORMANCE_DIR` overrides. */
export const CONFORMANCE_DIR = process.env["MACP_CONFORMANCE_DIR"] ?? resolve(repoRoot, "../shared/conformance");
