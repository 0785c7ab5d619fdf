import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources, so tests never need a prior build.
    conditions: ["source"],
  },
  ssr: {
    resolve: { conditions: ["source"], externalConditions: ["source"] },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "tests/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Resolves the Postgres and NATS servers once per run (tests/support/README.md).
    globalSetup: ["tests/support/src/global-setup.ts"],
  },
});
