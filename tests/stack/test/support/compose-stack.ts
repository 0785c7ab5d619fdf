import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";
import { DEPLOY_DIR, readYaml } from "./deploy-files.js";

/** A service of deploy/docker-compose.yml as the file states it (after `<<` merges). */
export interface ComposeService {
  readonly image?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
  readonly volumes?: string[];
  readonly depends_on?: Record<string, { condition: string }>;
  readonly healthcheck?: { test: string[] };
}

/** The parsed compose file. */
export interface ComposeFile {
  readonly services: Record<string, ComposeService>;
  readonly volumes: Record<string, unknown>;
}

export function readCompose(): ComposeFile {
  return readYaml(join(DEPLOY_DIR, "docker-compose.yml"))[0] as ComposeFile;
}

/** What an image built from one of deploy/docker/*.Dockerfile runs: its ENTRYPOINT, ENV, EXPOSE and the workspace package it deploys. */
export interface ImageSpec {
  readonly entrypoint: string[];
  readonly env: Record<string, string>;
  readonly exposed: number[];
  /** Folder of the package `pnpm deploy` copies to the image's WORKDIR (where the ENTRYPOINT runs). */
  readonly packageDir: string;
}

export function readImage(dockerfile: string): ImageSpec {
  const text = readFileSync(dockerfile, "utf8").replace(/\\\n/g, " ");
  const finalStage = text.slice(text.lastIndexOf("\nFROM "));
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage)?.[1];
  if (!entrypoint) throw new Error(`${dockerfile}: no exec-form ENTRYPOINT in the final stage`);
  const env: Record<string, string> = {};
  for (const line of finalStage.matchAll(/^ENV (.*)$/gm)) {
    for (const [, name, value] of (line[1] as string).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) env[name as string] = value as string;
  }
  const exposed = [...finalStage.matchAll(/^EXPOSE (.*)$/gm)].flatMap((line) => (line[1] as string).split(/\s+/).map(Number));
  const packageName = /--filter (@macp\/[a-z-]+) deploy --prod/.exec(text)?.[1];
  if (!packageName) throw new Error(`${dockerfile}: no \`pnpm --filter <package> deploy --prod\``);
  return { entrypoint: JSON.parse(entrypoint) as string[], env, exposed, packageDir: workspaceDir(packageName) };
}

function workspaceDir(packageName: string): string {
  for (const group of ["services", "packages"]) {
    for (const entry of readdirSync(join(REPO_ROOT, group))) {
      const manifest = join(REPO_ROOT, group, entry, "package.json");
      if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name === packageName) return join(REPO_ROOT, group, entry);
    }
  }
  throw new Error(`no workspace package ${packageName}`);
}

/**
 * Compose's variable interpolation for the forms the file uses: `${NAME}`, `${NAME:-default}`,
 * `${NAME:?message}` (a missing value is an error, as `docker compose up` makes it).
 */
export function interpolate(value: string, variables: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (_match, name: string, operator?: string, argument?: string) => {
    const set = variables[name];
    if (set !== undefined && set !== "") return set;
    if (operator === ":-") return argument ?? "";
    if (operator === ":?") throw new Error(`compose requires ${name}: ${argument}`);
    return "";
  });
}

/** Where this machine serves what compose's own containers provide. */
export interface HostServers {
  /** Postgres URL to use wherever compose points at its `postgres` service (database name included). */
  readonly postgresUrl: string;
  /** NATS URL to use wherever compose points at its `nats` service. */
  readonly natsUrl: string;
  /** Variables added to every service that talks to NATS, so the test's streams are its own (e.g. a unique BUS_PREFIX). */
  readonly natsIsolation?: Record<string, string>;
}

/** One service of the compose file turned into a local process: the image's command in the package folder, the image's ENV under compose's environment. */
export interface ServicePlan {
  readonly name: string;
  readonly command: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** The compose healthcheck as a local command (container ports replaced by this host's), or undefined. */
  readonly healthcheck?: string[];
  /** Services of the compose file this one waits for (`depends_on`). */
  readonly dependsOn: string[];
  /** Container port → local port. */
  readonly ports: ReadonlyMap<number, number>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Plans every service compose builds from this repository (those with `build`) as local processes.
 * Addresses are the only thing changed: compose's service hosts become this machine's servers and
 * the other processes' ports, listen addresses move to loopback, volumes to `dataDir`. A value that
 * still names a compose host afterwards fails the plan, so a new dependency cannot slip by.
 */
export async function planServices(compose: ComposeFile, servers: HostServers, variables: Record<string, string>, dataDir: string): Promise<ServicePlan[]> {
  const built = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
  const images = new Map(built.map(([name, service]) => [name, readImage(join(DEPLOY_DIR, service.build?.context ?? ".", service.build?.dockerfile ?? ""))]));
  const ports = new Map<string, Map<number, number>>();
  for (const [name] of built) {
    const mapping = new Map<number, number>();
    for (const port of images.get(name)?.exposed ?? []) mapping.set(port, await freePort());
    ports.set(name, mapping);
  }
  const hostAddress = (host: string, port: number): string | undefined => {
    if (host === "postgres") return undefined;
    const local = ports.get(host)?.get(port);
    return local === undefined ? undefined : `127.0.0.1:${local}`;
  };
  const composeHosts = Object.keys(compose.services);

  return built.map(([name, service]) => {
    const image = images.get(name) as ImageSpec;
    const own = ports.get(name) as Map<number, number>;
    const mounts = new Map<string, string>();
    for (const volume of service.volumes ?? []) {
      const [source, target] = volume.split(":") as [string, string];
      mounts.set(target, join(dataDir, name, source));
    }
    const localize = (variable: string, raw: string): string => {
      let value = interpolate(raw, variables);
      const mount = mounts.get(value);
      if (mount !== undefined) return mount;
      if (/^postgres(ql)?:\/\//.test(value) && new URL(value).hostname === "postgres") return servers.postgresUrl;
      if (/^nats:\/\//.test(value) && new URL(value).hostname === "nats") return servers.natsUrl;
      // Own listen addresses: `0.0.0.0:<container port>` and PORT / HOST pairs.
      value = value.replace(/^0\.0\.0\.0:(\d+)$/, (match, port: string) => (own.has(Number(port)) ? `127.0.0.1:${own.get(Number(port))}` : match));
      if (value === "0.0.0.0") return "127.0.0.1";
      if (/(^|_)PORT$/.test(variable) && own.has(Number(value))) return String(own.get(Number(value)));
      // Other services of the file: `<service>:<port>`, bare or inside a URL.
      value = value.replace(/\b([a-z][a-z0-9-]*):(\d+)\b/g, (match, host: string, port: string) => hostAddress(host, Number(port)) ?? match);
      const leftover = composeHosts.find((host) => new RegExp(`(^|[/@,])${host}:\\d|(//|@)${host}\\b`).test(value));
      if (leftover) throw new Error(`${name}: ${variable}=${value} still points at compose service ${leftover}`);
      return value;
    };
    const env: Record<string, string> = {};
    for (const [variable, value] of Object.entries({ ...image.env, ...service.environment })) env[variable] = localize(variable, String(value));
    if (env.NATS_URL !== undefined) Object.assign(env, servers.natsIsolation);
    const check = service.healthcheck?.test;
    let healthcheck: string[] | undefined;
    if (check && check[0] === "CMD") {
      healthcheck = check.slice(1).map((part) => {
        let local = part;
        for (const [container, host] of own) local = local.replace(new RegExp(`\\b${container}\\b`, "g"), String(host));
        return local;
      });
    }
    const command = service.command ?? image.entrypoint;
    return {
      name,
      command,
      cwd: image.packageDir,
      env,
      healthcheck,
      dependsOn: Object.keys(service.depends_on ?? {}),
      ports: own,
    };
  });
}

/** A running service process. */
export interface ServiceProcess {
  readonly plan: ServicePlan;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Starts a planned service: `node` in its command is this Node.js, the environment is the plan's only (plus PATH). */
export function startService(plan: ServicePlan): ServiceProcess {
  const [program, ...args] = plan.command;
  for (const arg of args) if (arg.endsWith(".js") && !existsSync(join(plan.cwd, arg))) throw new Error(`${join(plan.cwd, arg)} is missing: build first (npx -y pnpm@10 run build)`);
  const child = spawn(program === "node" ? process.execPath : (program as string), args, {
    cwd: plan.cwd,
    env: { PATH: process.env.PATH ?? "", ...plan.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { plan, child, exited, output: () => output };
}

/** Runs the service's compose healthcheck once: whether it exits 0. */
export function healthy(plan: ServicePlan): Promise<boolean> {
  const [program, ...args] = plan.healthcheck ?? [];
  if (program === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    execFile(program === "node" ? process.execPath : program, args, { cwd: plan.cwd, timeout: 10_000 }, (error) => resolve(error === null));
  });
}

/** Orders plans so each comes after the built services it depends on (compose's start order). */
export function startOrder(plans: ServicePlan[]): ServicePlan[] {
  const byName = new Map(plans.map((plan) => [plan.name, plan]));
  const ordered: ServicePlan[] = [];
  const visit = (plan: ServicePlan): void => {
    if (ordered.includes(plan)) return;
    for (const dependency of plan.dependsOn) {
      const other = byName.get(dependency);
      if (other) visit(other);
    }
    ordered.push(plan);
  };
  plans.forEach(visit);
  return ordered;
}

/** A scratch directory for the services' volumes. */
export function scratchDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "macp-full-stack-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
