import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const serviceNames = ["@macp/runtime", "@macp/control-plane", "@macp/projection-worker"];
// Subpath exports declared in a package.json "exports" map (negated: they are entry points).
const publicSubpaths = ["!@macp/protocol/grpc", "!@macp/core/internal"];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/src/gen/**", "**/.turbo/**", ".macp-data/**", "docs/api/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@macp/*/*", ...publicSubpaths], message: "Import a package only through its entry points (no deep imports)." },
            { group: ["**/packages/*/src/**", "**/services/*/src/**"], message: "Reach other packages through @macp/<name>, never by path." },
          ],
        },
      ],
    },
  },
  {
    // The run viewer runs in the browser.
    files: ["packages/viewer/src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["packages/**/*.ts"],
    rules: { "no-restricted-imports": ["error", packageRestrictions([])] },
  },
  {
    // The pure packages never load gRPC: only the client, the CLI and the services do.
    files: ["packages/{protocol,modes,policy,core,storage,replay,events}/src/**/*.ts"],
    ignores: ["packages/protocol/src/grpc.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        packageRestrictions([
          { group: ["@grpc/*", "@macp/protocol/grpc"], message: "A pure package never loads gRPC (only the client and the services do)." },
        ]),
      ],
    },
  },
  {
    // Tests find their servers and spec data through @macp/test-support (tests/support/README.md).
    files: ["packages/*/test/**/*.ts", "services/*/test/**/*.ts", "tests/*/test/**/*.ts"],
    // The drift test is the one reader of ../shared; lint-rules.test.ts quotes what the rule rejects.
    ignores: ["tests/support/test/shared-drift.test.ts", "tests/support/test/lint-rules.test.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.object.name='process'][object.property.name='env'][property.name=/^(DATABASE_URL|NATS_URL)$/]",
          message: "Use databaseUrl() / natsUrl() from @macp/test-support: it resolves the server once per run (env, local, container).",
        },
        {
          selector: "MemberExpression[object.object.name='process'][object.property.name='env'][property.value=/^(DATABASE_URL|NATS_URL)$/]",
          message: "Use databaseUrl() / natsUrl() from @macp/test-support: it resolves the server once per run (env, local, container).",
        },
        {
          selector: "Literal[value=/(^|\\/)shared\\/(spec|conformance)\\b/]",
          message: "A clone has no ../shared: read spec data from spec/ through @macp/test-support.",
        },
        {
          selector: "TemplateElement[value.raw=/(^|\\/)shared\\/(spec|conformance)\\b/]",
          message: "A clone has no ../shared: read spec data from spec/ through @macp/test-support.",
        },
      ],
    },
  },
);

function packageRestrictions(extraPatterns) {
  return {
    paths: serviceNames.map((name) => ({ name, message: "A package never imports a service." })),
    patterns: [
      { group: ["@macp/*/*", ...publicSubpaths], message: "Import a package only through its entry points (no deep imports)." },
      { group: ["**/services/**"], message: "A package never imports a service." },
      { group: ["**/packages/*/src/**"], message: "Reach other packages through @macp/<name>, never by path." },
      ...extraPatterns,
    ],
  };
}
