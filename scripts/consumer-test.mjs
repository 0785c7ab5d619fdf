#!/usr/bin/env node
// The packed-tarball consumer test: `pnpm pack` of every publishable package, a plain npm install
// of the tarballs into a scratch project outside the workspace, a check of each installed
// manifest, then a strict TypeScript compile (NodeNext) and a run of consumer-test/consumer.ts
// against them and the built runtime daemon; the opening example of every package README is
// type-checked too and, where it needs no daemon, run. Needs a prior `pnpm run build`. Exits
// non-zero on any failure and then keeps the scratch directory (MACP_CONSUMER_KEEP=1: always).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const PUBLISHABLE = ["protocol", "modes", "policy", "core", "storage", "replay", "client", "cli"];
// Packages that must not pull in gRPC (only @macp/client and @macp/cli depend on grpc-js).
const GRPC_FREE = ["protocol", "modes", "policy", "core", "storage", "replay"];
// Packages whose README example runs on its own (the client's needs a daemon: type-checked only).
const SELF_CONTAINED_EXAMPLES = ["protocol", "modes", "policy", "core", "storage", "replay"];
const root = realpathSync(fileURLToPath(new URL("..", import.meta.url)));
const runtimeMain = join(root, "services/runtime/dist/main.js");

function run(command, args, options = {}) {
  return execFileSync(command, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...options });
}

function fail(message) {
  throw new Error(message);
}

/** The exports/main/types/bin targets of a manifest, as relative paths. */
function manifestTargets(manifest) {
  const targets = [];
  const walk = (node, key) => {
    if (typeof node === "string") targets.push([key, node]);
    else if (node !== null && typeof node === "object") for (const [k, v] of Object.entries(node)) walk(v, `${key}.${k}`);
  };
  walk(manifest.exports, "exports");
  for (const field of ["main", "types"]) if (manifest[field] !== undefined) targets.push([field, manifest[field]]);
  walk(manifest.bin, "bin");
  return targets;
}

/** What pnpm pack must have produced: real files behind every entry, no workspace-only links. */
function checkInstalledPackage(dir, name) {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (manifest.private) fail(`${name} is private`);
  if (manifest.license !== "Apache-2.0") fail(`${name}: license is ${manifest.license}`);
  for (const file of ["LICENSE", "README.md"]) if (!existsSync(join(dir, file))) fail(`${name}: ${file} is not in the tarball`);
  for (const [key, target] of manifestTargets(manifest)) {
    if (key.includes(".source")) fail(`${name}: published exports keep the workspace-only "source" condition (${key})`);
    if (!existsSync(join(dir, target))) fail(`${name}: ${key} points at ${target}, which is not in the tarball`);
  }
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dependency, spec] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|file|link):/.test(spec)) fail(`${name}: ${field}.${dependency} is "${spec}", which exists only in the workspace`);
    }
  }
}

/** Every package an installed package depends on, directly or not (peer dependencies are not installed for it). */
function dependencyClosure(project, name) {
  const seen = new Set();
  const visit = (dependency, fromDir) => {
    // Node's lookup: the nearest node_modules/<dependency> from the depending package upwards.
    let dir = fromDir;
    while (!existsSync(join(dir, "node_modules", dependency, "package.json"))) {
      if (dir === project) fail(`${dependency} (needed from ${fromDir}) is not installed`);
      dir = dirname(dir);
    }
    const packageDir = join(dir, "node_modules", dependency);
    if (seen.has(packageDir)) return;
    seen.add(packageDir);
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    for (const next of Object.keys(manifest.dependencies ?? {})) visit(next, packageDir);
  };
  visit(name, project);
  return new Set([...seen].map((packageDir) => relative(project, packageDir).split(/node_modules[\\/]/).pop()));
}

/** The first fenced code block of a README, which must come before its first section heading. */
function openingExample(readmePath, name) {
  const readme = readFileSync(readmePath, "utf8");
  const fence = /^```(\w*)\n([\s\S]*?)^```/m.exec(readme);
  const firstSection = readme.search(/^## /m);
  if (fence === null || (firstSection !== -1 && fence.index > firstSection)) fail(`@macp/${name}: the README does not open with an example`);
  return { language: fence[1], code: fence[2] };
}

const scratch = mkdtempSync(join(realpathSync(tmpdir()), "macp-consumer-"));
if (!relative(root, scratch).startsWith("..")) fail(`the scratch project ${scratch} is inside the workspace`);
let passed = false;
try {
  if (!existsSync(runtimeMain)) fail("services/runtime/dist is missing: run `npx -y pnpm@10 run build` first");
  const tarballs = join(scratch, "tarballs");
  mkdirSync(tarballs);
  const manifests = PUBLISHABLE.map((name) => {
    const dir = join(root, "packages", name);
    if (!existsSync(join(dir, "dist"))) fail(`packages/${name}/dist is missing: run \`npx -y pnpm@10 run build\` first`);
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  });
  const filters = manifests.flatMap((manifest) => ["--filter", manifest.name]);
  run("npx", ["-y", "pnpm@10", "--recursive", ...filters, "pack", "--pack-destination", tarballs], { cwd: root });
  const dependencies = {};
  for (const manifest of manifests) {
    const tarball = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;
    if (!existsSync(join(tarballs, tarball))) fail(`pnpm pack did not produce ${tarball} (found: ${readdirSync(tarballs).join(", ")})`);
    dependencies[manifest.name] = `file:../tarballs/${tarball}`;
  }

  const project = join(scratch, "project");
  mkdirSync(project);
  const workspaceVersion = (pkg) => JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify(
      {
        name: "macp-consumer",
        private: true,
        type: "module",
        dependencies,
        devDependencies: { typescript: workspaceVersion("typescript"), "@types/node": workspaceVersion("@types/node") },
      },
      null,
      2,
    )}\n`,
  );
  cpSync(join(root, "scripts/consumer-test/consumer.ts"), join(project, "consumer.ts"));
  cpSync(join(root, "scripts/consumer-test/tsconfig.json"), join(project, "tsconfig.json"));

  console.log(`consumer-test: npm install of ${PUBLISHABLE.length} tarballs in ${project}`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project, stdio: ["ignore", "inherit", "inherit"] });
  for (const name of Object.keys(dependencies)) checkInstalledPackage(join(project, "node_modules", name), name);
  console.log("consumer-test: installed manifests checked");
  for (const name of GRPC_FREE) {
    const closure = dependencyClosure(project, `@macp/${name}`);
    if (closure.has("@grpc/grpc-js")) fail(`@macp/${name} pulls in @grpc/grpc-js`);
  }
  for (const name of PUBLISHABLE) {
    const example = openingExample(join(project, "node_modules/@macp", name, "README.md"), name);
    if (example.language === "ts") writeFileSync(join(project, `readme-${name}.ts`), example.code);
  }

  run(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: project, stdio: ["ignore", "inherit", "inherit"] });
  console.log("consumer-test: strict NodeNext type check passed");

  // Examples make temporary directories; TMPDIR keeps them inside the scratch directory.
  const exampleTmp = join(scratch, "tmp");
  mkdirSync(exampleTmp);
  for (const name of SELF_CONTAINED_EXAMPLES) {
    run(process.execPath, [join(project, `out/readme-${name}.js`)], { cwd: project, env: { ...process.env, TMPDIR: exampleTmp } });
    console.log(`consumer-test: the @macp/${name} README example ran`);
  }

  const dataDir = join(scratch, "data");
  run(process.execPath, [join(project, "out/consumer.js")], {
    cwd: project,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PATH: `${join(project, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}`,
      MACP_RUNTIME_MAIN: runtimeMain,
      MACP_CONSUMER_DATA_DIR: dataDir,
    },
  });
  passed = true;
} finally {
  if (!passed) console.error(`consumer-test: FAILED; the scratch project is kept in ${scratch}`);
  else if (process.env.MACP_CONSUMER_KEEP === "1") console.log(`consumer-test: the scratch project is kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
