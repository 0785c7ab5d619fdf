/**
 * Decides which Postgres and NATS servers a test run uses, in this order for each server:
 * the URL in its environment variable; else the default local address if something answers
 * there; else a container, if a Docker engine is reachable; else one error naming every way
 * to provide what is missing. Every effect is a probe passed in, so the order is testable.
 */

/** One server the tests may need. */
export interface ServerSpec {
  readonly kind: "postgres" | "nats";
  readonly name: string;
  readonly envVar: string;
  readonly defaultUrl: string;
  readonly host: string;
  readonly port: number;
  /** The pinned image a container of it starts from, and how to run one by hand. */
  readonly image: string;
  readonly localHint: string;
}

export const POSTGRES: ServerSpec = {
  kind: "postgres",
  name: "PostgreSQL",
  envVar: "DATABASE_URL",
  defaultUrl: "postgres://postgres@127.0.0.1:5432/test",
  host: "127.0.0.1",
  port: 5432,
  image: "postgres:16.6-alpine",
  localHint: "PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres, database test)",
};

export const NATS: ServerSpec = {
  kind: "nats",
  name: "NATS",
  envVar: "NATS_URL",
  defaultUrl: "nats://127.0.0.1:4222",
  host: "127.0.0.1",
  port: 4222,
  image: "nats:2.10.24-alpine",
  localHint: "nats-server -js on 127.0.0.1:4222",
};

/** Where a resolved server comes from. */
export type ServerSource = "env" | "local" | "container";

/** A server the tests can reach; `stop` ends it when this run started it. */
export interface ResolvedServer {
  readonly url: string;
  readonly source: ServerSource;
  readonly stop?: () => Promise<void>;
}

/** The effects resolution needs. */
export interface ServerProbes {
  readonly env: Readonly<Record<string, string | undefined>>;
  portAnswers(host: string, port: number): Promise<boolean>;
  dockerReachable(): Promise<boolean>;
  startContainer(spec: ServerSpec): Promise<{ url: string; stop: () => Promise<void> }>;
}

/** Raised once, before any test runs, when a server cannot be provided. */
export class TestServersUnavailableError extends Error {
  override readonly name = "TestServersUnavailableError";
}

/** Resolves every server in `specs` (in order), starting containers only where needed. */
export async function resolveServers(specs: readonly ServerSpec[], probes: ServerProbes): Promise<ResolvedServer[]> {
  const found: (ResolvedServer | undefined)[] = [];
  for (const spec of specs) found.push(await withoutContainer(spec, probes));
  const missing = specs.filter((_, index) => found[index] === undefined);
  if (missing.length === 0) return found as ResolvedServer[];

  if (!(await probes.dockerReachable())) throw new TestServersUnavailableError(unavailableMessage(missing));
  const resolved: ResolvedServer[] = [];
  try {
    for (const [index, spec] of specs.entries()) {
      const server = found[index] ?? { ...(await startContainer(spec, probes)), source: "container" as const };
      resolved.push(server);
    }
  } catch (error) {
    await stopAll(resolved);
    throw error;
  }
  return resolved;
}

/** Stops every server this run started. */
export async function stopAll(servers: readonly ResolvedServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.stop?.()));
}

async function withoutContainer(spec: ServerSpec, probes: ServerProbes): Promise<ResolvedServer | undefined> {
  const fromEnv = probes.env[spec.envVar];
  if (fromEnv !== undefined && fromEnv !== "") return { url: fromEnv, source: "env" };
  if (await probes.portAnswers(spec.host, spec.port)) return { url: spec.defaultUrl, source: "local" };
  return undefined;
}

async function startContainer(spec: ServerSpec, probes: ServerProbes): Promise<{ url: string; stop: () => Promise<void> }> {
  try {
    return await probes.startContainer(spec);
  } catch (error) {
    throw new TestServersUnavailableError(
      `A Docker engine is reachable, but starting the ${spec.name} test container (${spec.image}) failed: ` +
        `${error instanceof Error ? error.message : String(error)}\n` +
        `Either fix the engine (can it pull ${spec.image}?), run ${spec.localHint}, or set ${spec.envVar}.`,
    );
  }
}

function unavailableMessage(missing: readonly ServerSpec[]): string {
  const lines = missing.map((spec) => `  - ${spec.name}: ${spec.envVar} is not set and nothing answers on ${spec.host}:${spec.port}`);
  return [
    `The tests need ${missing.map((spec) => spec.name).join(" and ")}, and no Docker engine is reachable to start ${missing.length === 1 ? "it" : "them"}:`,
    ...lines,
    "Do one of:",
    `  - start a Docker engine (Docker Desktop, colima, or podman with DOCKER_HOST set): the tests then run ${missing.map((spec) => spec.image).join(" and ")} themselves;`,
    ...missing.map((spec) => `  - run ${spec.localHint};`),
    `  - set ${missing.map((spec) => spec.envVar).join(" / ")} to a server you have.`,
  ].join("\n");
}
