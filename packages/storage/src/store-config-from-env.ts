import { DEFAULT_DATA_DIR, type StoreConfig } from "./create-store.js";
import { storageFailed } from "./storage-error.js";

const BACKENDS = ["file", "postgres", "memory", "jetstream"] as const;

/**
 * The daemon's storage settings from its environment: `MACP_MEMORY_ONLY=1` selects memory and
 * overrides everything else; otherwise `MACP_STORAGE_BACKEND` (default `file`) with
 * `MACP_DATA_DIR` (default `.macp-data`), `MACP_DATABASE_URL`, or `MACP_NATS_URL` with
 * `MACP_JETSTREAM_REPLICAS` (1, 3 or 5; default 1) and `MACP_JETSTREAM_PREFIX` (default
 * `macp_runtime`).
 */
export function storeConfigFromEnv(env: Readonly<Record<string, string | undefined>>): StoreConfig {
  if (env.MACP_MEMORY_ONLY === "1") return { backend: "memory" };
  const backend = env.MACP_STORAGE_BACKEND ?? "file";
  if (!isBackend(backend)) {
    throw storageFailed(`unknown storage backend: ${backend}. Valid: ${BACKENDS.join(", ")}`);
  }
  switch (backend) {
    case "memory":
      return { backend };
    case "file":
      return { backend, dataDir: env.MACP_DATA_DIR ?? DEFAULT_DATA_DIR };
    case "postgres":
      if (env.MACP_DATABASE_URL === undefined || env.MACP_DATABASE_URL === "") {
        throw storageFailed("MACP_STORAGE_BACKEND=postgres needs MACP_DATABASE_URL");
      }
      return { backend, databaseUrl: env.MACP_DATABASE_URL };
    case "jetstream":
      return jetstreamConfig(env);
  }
}

function isBackend(value: string): value is (typeof BACKENDS)[number] {
  return (BACKENDS as readonly string[]).includes(value);
}

function jetstreamConfig(env: Readonly<Record<string, string | undefined>>): StoreConfig {
  if (env.MACP_NATS_URL === undefined || env.MACP_NATS_URL === "") {
    throw storageFailed("MACP_STORAGE_BACKEND=jetstream needs MACP_NATS_URL");
  }
  const replicas = env.MACP_JETSTREAM_REPLICAS ?? "1";
  if (!["1", "3", "5"].includes(replicas)) throw storageFailed(`MACP_JETSTREAM_REPLICAS must be 1, 3 or 5, not "${replicas}"`);
  const prefix = env.MACP_JETSTREAM_PREFIX;
  if (prefix !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
    throw storageFailed(`MACP_JETSTREAM_PREFIX must be 1-64 of A-Z a-z 0-9 _ -, not "${prefix}"`);
  }
  return {
    backend: "jetstream",
    natsUrl: env.MACP_NATS_URL,
    jetstreamReplicas: Number(replicas),
    ...(prefix === undefined ? {} : { jetstreamPrefix: prefix }),
  };
}
