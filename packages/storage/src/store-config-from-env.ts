import { DEFAULT_DATA_DIR, type StoreConfig } from "./create-store.js";
import { storageFailed } from "./storage-error.js";

const BACKENDS = ["file", "postgres", "memory"] as const;

/**
 * The daemon's storage settings from its environment: `MACP_MEMORY_ONLY=1` selects memory and
 * overrides everything else; otherwise `MACP_STORAGE_BACKEND` (default `file`) with
 * `MACP_DATA_DIR` (default `.macp-data`) or `MACP_DATABASE_URL`.
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
  }
}

function isBackend(value: string): value is (typeof BACKENDS)[number] {
  return (BACKENDS as readonly string[]).includes(value);
}
