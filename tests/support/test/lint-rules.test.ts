import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/index.js";

async function restrictedSyntax(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: REPO_ROOT }).lintText(code, { filePath: join(REPO_ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-syntax").map((m) => m.message);
}

describe("lint keeps tests on @macp/test-support", () => {
  it.each([
    ["process.env.DATABASE_URL", "export const url = process.env.DATABASE_URL;\n", "databaseUrl()"],
    ['process.env["NATS_URL"]', 'export const url = process.env["NATS_URL"];\n', "natsUrl()"],
    ["a path into ../shared/conformance", 'export const dir = "../../../../shared/conformance";\n', "no ../shared"],
    ["a template path into shared/spec", "export const dir = (root: string) => `${root}/../shared/spec/wire.md`;\n", "no ../shared"],
  ])("rejects %s in a test file", async (_name, code, message) => {
    for (const path of ["packages/storage/test/zz.test.ts", "services/control-plane/test/zz.ts"]) {
      expect((await restrictedSyntax(path, code)).join("\n")).toContain(message);
    }
  });

  it("allows the one drift test to read ../shared, and shipped code its own variables", async () => {
    const code = 'export const dir = "../shared/conformance";\nexport const url = process.env.DATABASE_URL;\n';
    expect(await restrictedSyntax("tests/support/test/shared-drift.test.ts", code)).toEqual([]);
    expect(await restrictedSyntax("services/control-plane/src/zz.ts", code)).toEqual([]);
  });
});
