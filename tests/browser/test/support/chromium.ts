import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const NAMES = ["chromium", "chromium-browser"];

/**
 * The Chromium executable on PATH (Debian's `chromium` package, or `chromium-browser`). These
 * tests never download a browser and never skip: without one they fail and say how to install it.
 */
export function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of NAMES) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  throw new Error(
    "Chromium is not installed: the run viewer's browser tests need `chromium` or `chromium-browser` on PATH. " +
      "Install Debian's package: apt-get install -y chromium (.ci/run does this when it is missing).",
  );
}
