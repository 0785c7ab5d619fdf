import { spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { FileStore } from "@macp/storage";
import { tempDir } from "./temp-dirs.js";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const removals: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const remove of removals.splice(0)) await remove();
});

async function makeTempDir(): Promise<string> {
  const dir = await tempDir();
  removals.push(dir.remove);
  return dir.path;
}

describe("data directory lock", () => {
  it("refuses to open a data directory another running process holds", async () => {
    const dir = await makeTempDir();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      await FileStore.open({ dir, logger: quiet }).then((store) => store.close());
      await writeFile(join(dir, "LOCK"), `${holder.pid}\n`);
      await expect(FileStore.open({ dir, logger: quiet })).rejects.toMatchObject({
        code: "INTERNAL_ERROR",
        message: expect.stringContaining(`in use by process ${holder.pid}`),
      });
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a lock left by a process that is gone, and releases it on close", async () => {
    const dir = await makeTempDir();
    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid;
    await writeFile(join(dir, "LOCK"), `${gone}\n`);
    const store = await FileStore.open({ dir, logger: quiet });
    await store.close();
    const again = await FileStore.open({ dir, logger: quiet });
    await again.close();
  });
});

describe("data directory lock ownership", () => {
  it("refuses a second open of the same directory in one process", async () => {
    const dir = await makeTempDir();
    const store = await FileStore.open({ dir, logger: quiet });
    try {
      await expect(FileStore.open({ dir, logger: quiet })).rejects.toMatchObject({
        message: expect.stringContaining("already open in this process"),
      });
    } finally {
      await store.close();
    }
  });

  it("takes over a lock that names this pid but that this process does not hold (a restarted container's PID 1)", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, "LOCK"), `${JSON.stringify({ pid: process.pid, host: hostname(), token: "previous-life" })}\n`);
    const store = await FileStore.open({ dir, logger: quiet });
    await store.close();
  });

  it("never guesses that a lock held from another host is stale", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, "LOCK"), `${JSON.stringify({ pid: 1, host: "some-other-host", token: "t" })}\n`);
    await expect(FileStore.open({ dir, logger: quiet })).rejects.toMatchObject({
      message: expect.stringContaining("in use by process 1 on some-other-host"),
    });
  });
});
