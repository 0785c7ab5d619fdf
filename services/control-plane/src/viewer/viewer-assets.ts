import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { ViewerAssetsConfig } from "../config/config.js";

/** Where the viewer's built files are, or why there are none to serve. */
export type ViewerAssets =
  | { readonly state: "ready"; readonly dir: string }
  | { readonly state: "off" }
  | { readonly state: "missing"; readonly dir: string | undefined; readonly reason: string };

const BUILD_HINT = "build it with `npx -y pnpm@10 run build` (or `npx -y pnpm@10 --filter @macp/viewer build`)";

/** The built viewer of the `@macp/viewer` package (a workspace dependency of this service). */
function bundledDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@macp/viewer/package.json")), "dist");
  } catch {
    return undefined;
  }
}

/** Resolves `VIEWER_ASSETS_DIR` to a folder holding `index.html`, or says why it cannot. */
export function locateViewerAssets(config: ViewerAssetsConfig): ViewerAssets {
  if (config.kind === "off") return { state: "off" };
  const dir = config.kind === "dir" ? resolve(config.dir) : bundledDir();
  if (dir === undefined) return { state: "missing", dir, reason: `the @macp/viewer package is not installed beside the control plane; ${BUILD_HINT}` };
  if (!existsSync(join(dir, "index.html"))) return { state: "missing", dir, reason: `${join(dir, "index.html")} does not exist; ${BUILD_HINT}` };
  return { state: "ready", dir };
}
