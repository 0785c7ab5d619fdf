import { useEffect, useState } from "preact/hooks";

// The app lives at `/` and under `/ui/…`; every other path belongs to the API, so reloading a
// viewer URL never lands on JSON (the control plane serves index.html for `/ui/*`).

/** A parsed viewer location. */
export type Route =
  | { readonly page: "runs" }
  | { readonly page: "run"; readonly runId: string }
  | { readonly page: "replay"; readonly runId: string; readonly seq: number | undefined }
  | { readonly page: "compare"; readonly left: string; readonly right: string }
  | { readonly page: "not-found"; readonly path: string };

/** Reads a route from a path and query string. */
export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/ui" || path === "/ui/runs") return { page: "runs" };
  const replay = /^\/ui\/runs\/([0-9a-f-]{36})\/replay$/i.exec(path);
  if (replay?.[1]) {
    const seq = Number(query.get("seq"));
    return { page: "replay", runId: replay[1], seq: query.has("seq") && Number.isInteger(seq) && seq >= 0 ? seq : undefined };
  }
  const run = /^\/ui\/runs\/([0-9a-f-]{36})$/i.exec(path);
  if (run?.[1]) return { page: "run", runId: run[1] };
  if (path === "/ui/compare") return { page: "compare", left: query.get("left") ?? "", right: query.get("right") ?? "" };
  return { page: "not-found", path };
}

/** Goes to `href` inside the app (history entry, no reload). */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  dispatchEvent(new PopStateEvent("popstate"));
}

/** The current route, updated on navigation. */
export function useRoute(): Route {
  const read = () => parseRoute(location.pathname, location.search);
  const [route, setRoute] = useState<Route>(read);
  useEffect(() => {
    const update = () => setRoute(read());
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return route;
}

/** Click handler of an in-app link: plain clicks navigate without reload, modified ones behave as usual. */
export function linkClick(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || anchor.target === "_blank") return;
  event.preventDefault();
  navigate(anchor.getAttribute("href") ?? "/");
}

export const runHref = (runId: string): string => `/ui/runs/${runId}`;
export const replayHref = (runId: string, seq?: number): string => `/ui/runs/${runId}/replay${seq === undefined ? "" : `?seq=${seq}`}`;
export const compareHref = (left: string, right: string): string => `/ui/compare?left=${encodeURIComponent(left)}&right=${encodeURIComponent(right)}`;
