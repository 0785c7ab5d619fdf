import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const PURE_PACKAGES = ["protocol", "modes", "policy", "core", "events"];
const FORBIDDEN: [string, RegExp][] = [
  ["node:fs", /from\s+["'](node:)?fs(\/promises)?["']/],
  ["node:net", /from\s+["'](node:)?(net|http|http2|dgram|tls)["']/],
  ["a service", /from\s+["']@macp\/(runtime|control-plane|projection-worker)["']/],
  ["the wall clock", /\bDate\.now\(|\bnew Date\(|performance\.now\(/],
  ["randomness", /Math\.random\(|randomUUID\(|getRandomValues\(/],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "gen" ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("pure packages", () => {
  const root = join(import.meta.dirname, "../..");
  for (const pkg of PURE_PACKAGES) {
    it(`${pkg} imports no I/O, no service, and reads no clock or randomness`, () => {
      const offences: string[] = [];
      for (const file of sourceFiles(join(root, pkg, "src"))) {
        const text = readFileSync(file, "utf8");
        for (const [what, pattern] of FORBIDDEN) if (pattern.test(text)) offences.push(`${file}: ${what}`);
      }
      expect(offences).toEqual([]);
    });
  }
});
