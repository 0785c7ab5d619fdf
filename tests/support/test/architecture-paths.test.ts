import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/index.js";

/** Repository paths named in backticks (`packages/…`, `services/…`, `tests/…`); `<mode>` templates are skipped. */
function namedPaths(markdown: string): string[] {
  const paths = [...markdown.matchAll(/`((?:packages|services|tests)\/[^`\s]+|eslint\.config\.js)`/g)].map((match) => match[1]!);
  return [...new Set(paths)].filter((path) => !path.includes("<"));
}

describe("ARCHITECTURE.md", () => {
  const text = readFileSync(join(REPO_ROOT, "ARCHITECTURE.md"), "utf8");
  const paths = namedPaths(text);

  it("names the files of the rules it lists", () => {
    expect(paths.length).toBeGreaterThan(30);
  });

  it.each(paths)("names %s, which exists", (path) => {
    expect(existsSync(join(REPO_ROOT, path))).toBe(true);
  });
});
