import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { SessionStore } from "@macp/core";
import { FileStore, MemoryStore, PostgresStore, createStore, storeConfigFromEnv } from "../src/index.js";
import { logEntry, recordingLogger } from "./log-entries.js";
import { DATABASE_URL, schemaAllocator } from "./postgres-fixture.js";
import { tempDir } from "./temp-dirs.js";

const schemas = schemaAllocator("factory");
afterAll(() => schemas.dropAll());

describe("createStore", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = (store: SessionStore): SessionStore => {
    cleanups.push(() => store.close());
    return store;
  };

  it("opens a memory store", async () => {
    expect(track(await createStore({ backend: "memory" }))).toBeInstanceOf(MemoryStore);
  });

  it("opens a file store over the data dir, whose data a second store sees", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const first = await createStore({ backend: "file", dataDir: dir.path, logger: recordingLogger() });
    expect(first).toBeInstanceOf(FileStore);
    await first.append("c", [logEntry("c", 1)]);
    await first.close();
    const second = track(await createStore({ backend: "file", dataDir: dir.path, syncMode: "per-append", logger: recordingLogger() }));
    expect(await second.loadLog("c")).toEqual([logEntry("c", 1)]);
  });

  it("opens a migrated postgres store", async () => {
    const store = track(
      await createStore({ backend: "postgres", databaseUrl: DATABASE_URL, databaseSchema: schemas.next(), logger: recordingLogger() }),
    );
    expect(store).toBeInstanceOf(PostgresStore);
    await store.append("p", [logEntry("p", 1)]);
    expect(await store.loadLog("p")).toEqual([logEntry("p", 1)]);
  });

  it("rejects a postgres backend without a URL and an unknown backend", async () => {
    await expect(createStore({ backend: "postgres" })).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
    await expect(createStore({ backend: "rocksdb" as "file" })).rejects.toThrow(/unknown storage backend: rocksdb/);
  });
});

describe("storeConfigFromEnv", () => {
  it("defaults to the file backend under .macp-data", () => {
    expect(storeConfigFromEnv({})).toEqual({ backend: "file", dataDir: ".macp-data" });
    expect(storeConfigFromEnv({ MACP_DATA_DIR: "/var/lib/macp" })).toEqual({ backend: "file", dataDir: "/var/lib/macp" });
  });

  it("lets MACP_MEMORY_ONLY=1 override the backend choice", () => {
    expect(storeConfigFromEnv({ MACP_MEMORY_ONLY: "1", MACP_STORAGE_BACKEND: "postgres" })).toEqual({ backend: "memory" });
    expect(storeConfigFromEnv({ MACP_STORAGE_BACKEND: "memory" })).toEqual({ backend: "memory" });
  });

  it("selects postgres with MACP_DATABASE_URL and refuses it without one", () => {
    expect(storeConfigFromEnv({ MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://db/macp" })).toEqual({
      backend: "postgres",
      databaseUrl: "postgres://db/macp",
    });
    expect(() => storeConfigFromEnv({ MACP_STORAGE_BACKEND: "postgres" })).toThrow(/MACP_DATABASE_URL/);
  });

  it("refuses an unknown backend, naming the valid ones", () => {
    expect(() => storeConfigFromEnv({ MACP_STORAGE_BACKEND: "redis" })).toThrow("unknown storage backend: redis. Valid: file, postgres, memory, jetstream");
  });
});
