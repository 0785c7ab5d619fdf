import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";

/** The built viewer (`pnpm test` builds every package before vitest runs). */
const VIEWER_DIST = join(dirname(createRequire(import.meta.url).resolve("@macp/viewer/package.json")), "dist");

describe("the run viewer served at /", () => {
  let cp: TestControlPlane;
  let bundle: string;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { NODE_ENV: "production", AUTH_API_KEYS: "viewer-test-key", RUNTIME_ALLOW_INSECURE: "true" });
    const index = readFileSync(join(VIEWER_DIST, "index.html"), "utf8");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    if (!script) throw new Error(`no script in ${VIEWER_DIST}/index.html: build first (npx -y pnpm@10 run build)`);
    bundle = script;
  }, 120_000);
  afterAll(async () => {
    await cp?.close();
  });

  it("serves index.html at / and for every /ui/* path, without credentials, revalidated on each load", async () => {
    for (const path of ["/", "/ui", "/ui/runs/00000000-0000-4000-8000-000000000001", "/ui/runs/00000000-0000-4000-8000-000000000001/replay?seq=3", "/ui/compare?left=a&right=b"]) {
      const response = await cp.request("GET", path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control"), path).toBe("no-cache");
      expect(response.headers.get("content-security-policy"), path).toContain("default-src 'self'");
      expect(response.text, path).toContain('<div id="app">');
    }
  });

  it("serves the hashed bundles cached for a year, and 404 problem JSON for an unknown asset", async () => {
    const script = await cp.request("GET", bundle);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const missing = await cp.request("GET", "/assets/nope-123.js");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, errorCode: "ROUTE_NOT_FOUND" });
  });

  it("never shadows the API: its routes still need credentials and answer JSON", async () => {
    const list = await cp.request("GET", "/runs");
    expect(list.status).toBe(401);
    const withKey = await cp.request("GET", "/runs/00000000-0000-4000-8000-000000000001", { headers: { authorization: "Bearer viewer-test-key", accept: "text/html" } });
    expect(withKey.status).toBe(404);
    expect(withKey.body).toMatchObject({ errorCode: "RUN_NOT_FOUND" });
    const unknown = await cp.request("GET", "/not-an-api-route", { headers: { accept: "text/html" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ errorCode: "ROUTE_NOT_FOUND" });
    expect((await cp.request("GET", "/docs/json")).body.paths["/"]).toBeUndefined();
  });
});

describe("the control plane without built viewer assets", () => {
  const empty = mkdtempSync(join(tmpdir(), "macp-viewer-empty-"));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it("starts in development and answers / with 503 VIEWER_NOT_BUILT saying how to build it", { timeout: 120_000 }, async () => {
    const cp = await startTestControlPlane("pglite", { VIEWER_ASSETS_DIR: empty });
    try {
      const response = await cp.request("GET", "/");
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ errorCode: "VIEWER_NOT_BUILT" });
      expect(response.body.message).toContain("index.html does not exist");
      expect(response.body.message).toContain("pnpm@10 run build");
      expect((await cp.request("GET", "/healthz")).status).toBe(200);
    } finally {
      await cp.close();
    }
  });

  it("refuses to start outside development when VIEWER_ASSETS_DIR names a folder without the viewer", { timeout: 120_000 }, async () => {
    await expect(startTestControlPlane("pglite", { NODE_ENV: "production", AUTH_API_KEYS: "k", RUNTIME_ALLOW_INSECURE: "true", VIEWER_ASSETS_DIR: empty })).rejects.toThrow(/VIEWER_ASSETS_DIR: .*index\.html does not exist/);
  });

  it("serves no viewer with VIEWER_ASSETS_DIR=off", { timeout: 120_000 }, async () => {
    const cp = await startTestControlPlane("pglite", { VIEWER_ASSETS_DIR: "off" });
    try {
      const response = await cp.request("GET", "/");
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ errorCode: "ROUTE_NOT_FOUND" });
    } finally {
      await cp.close();
    }
  });
});
