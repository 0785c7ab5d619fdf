import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "@macp/test-support";

export const DEPLOY_DIR = join(REPO_ROOT, "deploy");
export const K8S_DIR = join(DEPLOY_DIR, "k8s");

/** A parsed Kubernetes object and the file it came from. */
export interface Manifest {
  readonly file: string;
  readonly object: { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
}

/** Every YAML file below `dir`, recursively, as repository-relative paths. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** Parses every document of a YAML file (with `<<` merge keys, as docker compose reads them); a syntax error names the file. */
export function readYaml(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(file, "utf8"), { merge: true });
  return (Array.isArray(documents) ? documents : [documents]).map((document) => {
    if (document.errors.length > 0) throw new Error(`${relative(REPO_ROOT, file)}: ${document.errors.map((error) => error.message).join("; ")}`);
    return document.toJS({ maxAliasCount: 100 });
  });
}

/**
 * The variable names a service README documents: the backticked names in the first column of
 * its configuration tables (`| \`PORT\` / \`HOST\` | …`).
 */
export function documentedVariables(readme: string): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(join(REPO_ROOT, readme), "utf8").split("\n")) {
    const firstCell = /^\|([^|]+)\|/.exec(line)?.[1];
    if (!firstCell) continue;
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(match[1] as string);
  }
  return names;
}
