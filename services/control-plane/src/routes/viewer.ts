import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { RoutePluginOptions } from "../context.js";
import { HttpError } from "../http/errors.js";
import { locateViewerAssets } from "../viewer/viewer-assets.js";

// The app loads only its own files and talks only to this origin.
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The run viewer (`@macp/viewer`): `index.html` at `/` and for every `/ui/*` path (the app's own
 * routes, so a reload lands on the app; nothing of the API lives under `/ui`), hashed bundles
 * under `/assets/*` cached for a year, `index.html` revalidated on every load. Every route here
 * is public: the page asks for an API key itself and sends it on its API calls. Without built
 * assets the control plane still starts, logs why, and `/` answers 503 `VIEWER_NOT_BUILT`
 * (except when `VIEWER_ASSETS_DIR` names a folder without them outside development: start fails).
 */
export const viewerRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { ctx }) => {
  const assets = locateViewerAssets(ctx.config.viewerAssets);
  if (assets.state === "off") return;
  app.addHook("onRoute", (route) => {
    route.config = { ...(route.config as object), public: true, rateLimit: false };
    route.schema = { ...route.schema, hide: true };
  });
  if (assets.state === "missing") {
    // A folder the operator named must hold the viewer; in development (or with the bundled one
    // not built yet) the API still starts and `/` says what to do.
    if (ctx.config.viewerAssets.kind === "dir" && !ctx.config.development) throw new Error(`VIEWER_ASSETS_DIR: ${assets.reason}`);
    ctx.logger.warn(`run viewer not served: ${assets.reason}`);
    const unavailable = async (): Promise<never> => {
      throw new HttpError(503, "VIEWER_NOT_BUILT", `the run viewer is not built: ${assets.reason}`);
    };
    app.get("/", unavailable);
    app.get("/ui/*", unavailable);
    return;
  }

  await app.register(fastifyStatic, { root: assets.dir, serve: false });
  await app.register(fastifyStatic, {
    root: `${assets.dir}/assets`,
    prefix: "/assets/",
    decorateReply: false,
    cacheControl: true,
    maxAge: "365d",
    immutable: true,
    setHeaders: (response) => response.header("x-content-type-options", "nosniff"),
  });
  const page = (reply: FastifyReply) =>
    reply
      .header("cache-control", "no-cache")
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .sendFile("index.html", { cacheControl: false });
  app.get("/", (_request, reply) => page(reply));
  app.get("/ui", (_request, reply) => page(reply));
  app.get("/ui/*", (_request, reply) => page(reply));
  app.get("/favicon.svg", (_request, reply) => reply.header("cache-control", "public, max-age=86400").sendFile("favicon.svg", { cacheControl: false }));
};
