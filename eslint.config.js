import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const serviceNames = ["@macp/runtime", "@macp/control-plane", "@macp/projection-worker"];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/src/gen/**", "**/.turbo/**", ".macp-data/**"] },
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
            { group: ["@macp/*/*"], message: "Import a package only through its entry point (no deep imports)." },
            { group: ["**/packages/*/src/**", "**/services/*/src/**"], message: "Reach other packages through @macp/<name>, never by path." },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: serviceNames.map((name) => ({ name, message: "A package never imports a service." })),
          patterns: [
            { group: ["@macp/*/*"], message: "Import a package only through its entry point (no deep imports)." },
            { group: ["**/services/**"], message: "A package never imports a service." },
            { group: ["**/packages/*/src/**"], message: "Reach other packages through @macp/<name>, never by path." },
          ],
        },
      ],
    },
  },
);
