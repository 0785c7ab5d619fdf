import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root. */
export const REPO_ROOT = resolve(import.meta.dirname, "../../..");

/**
 * The repository's own copy of the MACP spec data (`spec/`): the spec digests with their JSON
 * Schemas under `digests/`, the conformance vectors under `conformance/`. The one place every
 * suite reads spec data from.
 */
export const SPEC_DIR = join(REPO_ROOT, "spec");

/** The spec digests (`wire.md`, `protocol.md`, …) and the spec's JSON Schemas under `json/`. */
export const DIGESTS_DIR = join(SPEC_DIR, "digests");

/** The canonical conformance vectors, one JSON file per scenario. */
export const CONFORMANCE_DIR = join(SPEC_DIR, "conformance");

/** The repository's `proto/` tree. */
export const PROTO_DIR = join(REPO_ROOT, "proto");

/** One spec digest's Markdown, e.g. `readSpecDigest("wire.md")`. */
export function readSpecDigest(name: string): string {
  return readFileSync(join(DIGESTS_DIR, name), "utf8");
}

/** The file names of the conformance vectors, sorted. */
export function conformanceVectorFiles(): string[] {
  return readdirSync(CONFORMANCE_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort();
}

/** One conformance vector, parsed; `T` is the shape the calling suite reads. */
export function readConformanceVector<T>(file: string): T {
  return JSON.parse(readFileSync(join(CONFORMANCE_DIR, file), "utf8")) as T;
}

/** The file names of the spec's JSON Schemas in `json/<folder>` (e.g. `"policy"`), sorted. */
export function specJsonSchemaFiles(folder: string): string[] {
  return readdirSync(join(DIGESTS_DIR, "json", folder))
    .filter((name) => name.endsWith(".schema.json"))
    .sort();
}

/** One of the spec's JSON Schemas, parsed, by its path under `json/` (e.g. `"policy/task-rules.schema.json"`). */
export function readSpecJsonSchema<T>(path: string): T {
  return JSON.parse(readFileSync(join(DIGESTS_DIR, "json", path), "utf8")) as T;
}
