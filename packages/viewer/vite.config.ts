import { defineConfig } from "vite";

// The control plane serves dist/ at `/`: hashed files under /assets/ are cached for a year,
// index.html never (services/control-plane/src/viewer/).
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
  // `npx vite` in this folder proxies the API to a control plane on :3001 (live-reload while editing).
  server: { proxy: { "^/(runs|events|runtime|readyz|healthz)": { target: "http://127.0.0.1:3001", changeOrigin: false } } },
});
