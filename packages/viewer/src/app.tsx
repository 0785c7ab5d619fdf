import { useEffect, useState } from "preact/hooks";
import { storedApiKey, storeApiKey } from "./api/auth.js";
import { onUnauthorized } from "./api/client.js";
import { Link } from "./components/link.js";
import { useRoute } from "./router.js";
import { ComparePage } from "./views/compare-page.js";
import { ReplayPage } from "./views/replay-page.js";
import { RunPage } from "./views/run-page.js";
import { RunsList } from "./views/runs-list.js";

/** Asks for an API key when the control plane refuses the tab's calls (never in development mode). */
function KeyForm({ onSaved }: { onSaved: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="key-form"
      aria-label="API key"
      onSubmit={(event) => {
        event.preventDefault();
        storeApiKey(value);
        setValue("");
        onSaved();
      }}
    >
      <label>
        This control plane needs an API key (kept in this tab only):
        <input type="password" autocomplete="off" value={value} onInput={(event) => setValue((event.currentTarget as HTMLInputElement).value)} required />
      </label>
      <button type="submit" class="primary">
        Use key
      </button>
    </form>
  );
}

/** The viewer: header, the API-key prompt when needed, and the current page. */
export function App() {
  const route = useRoute();
  const [needsKey, setNeedsKey] = useState(false);
  const [hasKey, setHasKey] = useState(storedApiKey() !== undefined);
  // Bumped when the key changes: every page reloads its data with it.
  const [authVersion, setAuthVersion] = useState(0);
  useEffect(() => onUnauthorized(() => setNeedsKey(true)), []);
  useEffect(() => {
    document.title = route.page === "runs" ? "Runs · MACP viewer" : route.page === "compare" ? "Compare · MACP viewer" : route.page === "not-found" ? "Not found · MACP viewer" : `Run ${route.runId.slice(0, 8)} · MACP viewer`;
  }, [route]);
  const keyChanged = () => {
    setNeedsKey(false);
    setHasKey(storedApiKey() !== undefined);
    setAuthVersion((version) => version + 1);
  };

  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          MACP run viewer
        </Link>
        <nav aria-label="Main">
          <Link href="/">Runs</Link>
          <Link href="/ui/compare">Compare</Link>
          <a href="/docs">API docs</a>
        </nav>
        {hasKey && (
          <button
            type="button"
            class="link"
            onClick={() => {
              storeApiKey(undefined);
              keyChanged();
            }}
          >
            Forget API key
          </button>
        )}
      </header>
      {needsKey && <KeyForm onSaved={keyChanged} />}
      <div id="content" tabIndex={-1}>
        {route.page === "runs" && <RunsList authVersion={authVersion} />}
        {route.page === "run" && <RunPage key={route.runId} runId={route.runId} authVersion={authVersion} />}
        {route.page === "replay" && <ReplayPage key={route.runId} runId={route.runId} initialSeq={route.seq} authVersion={authVersion} />}
        {route.page === "compare" && <ComparePage left={route.left} right={route.right} authVersion={authVersion} />}
        {route.page === "not-found" && (
          <main>
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <Link href="/">Back to runs</Link>
            </p>
          </main>
        )}
      </div>
    </>
  );
}
