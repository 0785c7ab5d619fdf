import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { portAnswers } from "../src/live-probes.js";
import { NATS, POSTGRES, TestServersUnavailableError, resolveServers, type ServerProbes, type ServerSpec } from "../src/server-resolution.js";

interface World {
  env?: Record<string, string>;
  answering?: string[];
  docker?: boolean;
  containerFails?: boolean;
}

/** Probes over a described machine, recording what was asked and what was started or stopped. */
function stubbed(world: World) {
  const calls: string[] = [];
  const probes: ServerProbes = {
    env: world.env ?? {},
    async portAnswers(host, port) {
      calls.push(`port ${host}:${port}`);
      return (world.answering ?? []).includes(`${host}:${port}`);
    },
    async dockerReachable() {
      calls.push("docker?");
      return world.docker ?? false;
    },
    async startContainer(spec: ServerSpec) {
      calls.push(`start ${spec.image}`);
      if (world.containerFails && spec === NATS) throw new Error("pull access denied");
      return { url: `${spec.kind}://container`, stop: async () => void calls.push(`stop ${spec.image}`) };
    },
  };
  return { probes, calls };
}

const urlsAndSources = (servers: Awaited<ReturnType<typeof resolveServers>>) => servers.map(({ url, source }) => ({ url, source }));

describe("resolving the test servers", () => {
  it("takes DATABASE_URL and NATS_URL as given, probing nothing", async () => {
    const { probes, calls } = stubbed({ env: { DATABASE_URL: "postgres://db/x", NATS_URL: "nats://bus:4222" }, docker: true });
    expect(urlsAndSources(await resolveServers([POSTGRES, NATS], probes))).toEqual([
      { url: "postgres://db/x", source: "env" },
      { url: "nats://bus:4222", source: "env" },
    ]);
    expect(calls).toEqual([]);
  });

  it("uses the default local address when something answers there, even with Docker reachable", async () => {
    const { probes, calls } = stubbed({ answering: ["127.0.0.1:5432", "127.0.0.1:4222"], docker: true });
    expect(urlsAndSources(await resolveServers([POSTGRES, NATS], probes))).toEqual([
      { url: "postgres://postgres@127.0.0.1:5432/test", source: "local" },
      { url: "nats://127.0.0.1:4222", source: "local" },
    ]);
    expect(calls).toEqual(["port 127.0.0.1:5432", "port 127.0.0.1:4222"]);
  });

  it("starts a container only for the server that is neither given nor answering", async () => {
    const { probes, calls } = stubbed({ env: { NATS_URL: "nats://bus:4222" }, docker: true });
    const servers = await resolveServers([POSTGRES, NATS], probes);
    expect(urlsAndSources(servers)).toEqual([
      { url: "postgres://container", source: "container" },
      { url: "nats://bus:4222", source: "env" },
    ]);
    expect(calls).toEqual(["port 127.0.0.1:5432", "docker?", `start ${POSTGRES.image}`]);
    expect(servers[1]?.stop).toBeUndefined();
    await servers[0]?.stop?.();
    expect(calls.at(-1)).toBe(`stop ${POSTGRES.image}`);
  });

  it("treats an empty variable as unset", async () => {
    const { probes } = stubbed({ env: { DATABASE_URL: "" }, answering: ["127.0.0.1:5432"] });
    expect(urlsAndSources(await resolveServers([POSTGRES], probes))).toEqual([{ url: POSTGRES.defaultUrl, source: "local" }]);
  });

  it("fails once, naming every missing server and every remedy, when Docker is not reachable either", async () => {
    const { probes, calls } = stubbed({ answering: ["127.0.0.1:5432"] });
    const failure = await resolveServers([POSTGRES, NATS], probes).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TestServersUnavailableError);
    const message = (failure as Error).message;
    expect(message).toContain("NATS: NATS_URL is not set and nothing answers on 127.0.0.1:4222");
    expect(message).not.toContain("PostgreSQL:");
    expect(message).toContain("start a Docker engine");
    expect(message).toContain("nats-server -js on 127.0.0.1:4222");
    expect(message).toContain("set NATS_URL");
    expect(calls).toEqual(["port 127.0.0.1:5432", "port 127.0.0.1:4222", "docker?"]);
  });

  it("stops the containers it already started when a later one fails, and says which image failed", async () => {
    const { probes, calls } = stubbed({ docker: true, containerFails: true });
    const failure = await resolveServers([POSTGRES, NATS], probes).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TestServersUnavailableError);
    expect((failure as Error).message).toContain(`starting the NATS test container (${NATS.image}) failed: pull access denied`);
    expect(calls.slice(-3)).toEqual([`start ${POSTGRES.image}`, `start ${NATS.image}`, `stop ${POSTGRES.image}`]);
  });
});

describe("the live port probe", () => {
  it("answers true while a server listens on the port and false once it is closed", async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    expect(await portAnswers("127.0.0.1", port)).toBe(true);
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    expect(await portAnswers("127.0.0.1", port)).toBe(false);
  });
});
