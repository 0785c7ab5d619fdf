import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");

async function lintAs(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("package layering is enforced by lint", () => {
  it.each([
    ["a package importing a service", "packages/core/src/zz.ts", 'import { startRuntime } from "@macp/runtime";\nexport { startRuntime };\n', "never imports a service"],
    ["a deep import into another package", "packages/core/src/zz.ts", 'import { x } from "@macp/protocol/src/errors";\nexport { x };\n', "no deep imports"],
    ["a path reaching into another package's sources", "services/runtime/src/zz.ts", 'import { Kernel } from "../../../packages/core/src/kernel.js";\nexport { Kernel };\n', "never by path"],
    ["a pure package loading the gRPC binding", "packages/core/src/zz.ts", 'import { MACPRuntimeServiceService } from "@macp/protocol/grpc";\nexport { MACPRuntimeServiceService };\n', "never loads gRPC"],
    ["a pure package loading grpc-js", "packages/replay/src/zz.ts", 'import { status } from "@grpc/grpc-js";\nexport { status };\n', "never loads gRPC"],
  ])("rejects %s", async (_label, path, code, expected) => {
    const messages = await lintAs(path, code);
    expect(messages.join("\n")).toContain(expected);
  });

  it("accepts imports through a package's entry point", async () => {
    expect(await lintAs("services/runtime/src/zz.ts", 'import { Kernel } from "@macp/core";\nexport { Kernel };\n')).toEqual([]);
  });

  it.each(["packages/client/src/zz.ts", "services/runtime/src/zz.ts"])("accepts the @macp/protocol/grpc entry point in %s", async (path) => {
    expect(await lintAs(path, 'import { MACPRuntimeServiceService } from "@macp/protocol/grpc";\nexport { MACPRuntimeServiceService };\n')).toEqual([]);
  });
});
