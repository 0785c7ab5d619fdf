import { connect } from "node:net";
import type { ServerProbes, ServerSpec } from "./server-resolution.js";

/** How long a local port may take to accept before it counts as silent. */
const CONNECT_TIMEOUT_MS = 1_000;

/** Whether something accepts TCP connections on `host:port`. */
export function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Whether testcontainers finds a container engine (DOCKER_HOST, the Docker socket, podman, …). */
async function dockerReachable(): Promise<boolean> {
  // Loaded only here: a run against local servers never pays for testcontainers.
  const { getContainerRuntimeClient } = await import("testcontainers");
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

async function startContainer(spec: ServerSpec): Promise<{ url: string; stop: () => Promise<void> }> {
  if (spec.kind === "postgres") {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer(spec.image).withDatabase("test").withUsername("postgres").withPassword("postgres").start();
    return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
  }
  const { NatsContainer } = await import("@testcontainers/nats");
  const container = await new NatsContainer(spec.image).withJetStream().start();
  const { user, pass } = container.getConnectionOptions();
  const url = `nats://${user}:${pass}@${container.getHost()}:${container.getMappedPort(4222)}`;
  return { url, stop: async () => void (await container.stop()) };
}

/** The real probes: the process environment, TCP connects and testcontainers. */
export function liveProbes(): ServerProbes {
  return { env: process.env, portAnswers, dockerReachable, startContainer };
}
