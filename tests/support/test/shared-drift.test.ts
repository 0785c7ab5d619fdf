import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFORMANCE_DIR, DIGESTS_DIR, REPO_ROOT, conformanceVectorFiles, readConformanceVector, readSpecDigest } from "../src/index.js";

/**
 * The only code that reads `../shared`: the project's shared spec folder, present beside the
 * repository in CI and on the team's machines, absent in a user's clone. While it is there,
 * `spec/` must hold exactly its files, byte for byte, so the repository's copy cannot drift.
 */
const SHARED_DIR = resolve(REPO_ROOT, "../shared");

/** Each folder of `spec/` and the shared folder it copies. */
const COPIES = [
  { name: "spec/conformance", repo: CONFORMANCE_DIR, shared: join(SHARED_DIR, "conformance") },
  { name: "spec/digests", repo: DIGESTS_DIR, shared: join(SHARED_DIR, "spec") },
] as const;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

const sharedPresent = COPIES.every(({ shared }) => existsSync(shared));

if (sharedPresent) {
  describe.each(COPIES)("$name matches ../shared (drift check)", ({ repo, shared }) => {
    it("holds exactly the shared folder's files", () => {
      expect(filesUnder(repo)).toEqual(filesUnder(shared));
    });

    it.each(filesUnder(shared))("%s is byte-identical to the shared copy", (file) => {
      const ours = join(repo, file);
      expect(existsSync(ours), `${relative(REPO_ROOT, ours)} is missing: copy it from ${join(shared, file)}`).toBe(true);
      expect(readFileSync(ours).equals(readFileSync(join(shared, file))), `${relative(REPO_ROOT, ours)} differs from ${join(shared, file)}`).toBe(true);
    });
  });
} else {
  console.info(`drift check not possible: no ${SHARED_DIR} beside the repository; checking spec/ on its own`);

  describe("spec/ without ../shared beside the repository", () => {
    it("holds parseable conformance vectors for every standard mode and the digests the suites read", () => {
      const modes = new Set(conformanceVectorFiles().map((file) => readConformanceVector<{ mode: string }>(file).mode));
      expect([...modes].sort()).toEqual([
        "ext.multi_round.v1",
        "macp.mode.decision.v1",
        "macp.mode.handoff.v1",
        "macp.mode.proposal.v1",
        "macp.mode.quorum.v1",
        "macp.mode.task.v1",
      ]);
      for (const digest of ["wire.md", "protocol.md", "modes-and-policy.md"]) expect(readSpecDigest(digest)).toMatch(/^# /);
    });
  });
}
