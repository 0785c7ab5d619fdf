import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api/client.js";
import type { RunPage, RunStatus } from "../api/types.js";
import { Link } from "../components/link.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatAge, formatDuration, shortId } from "../lib/format.js";
import { KNOWN_MODES, modeLabel, summarizeRun } from "../lib/run-summary.js";
import { runHref } from "../router.js";

const STATUSES: readonly RunStatus[] = ["queued", "starting", "binding_session", "running", "suspended", "completed", "failed", "cancelled"];
const PAGE_SIZE = 20;
const POLL_MS = 3000;

interface Filters {
  status: string;
  mode: string;
  tag: string;
  search: string;
}

function listPath(filters: Filters, offset: number): string {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (filters.status) query.set("status", filters.status);
  if (filters.mode) query.set("modeName", `macp.mode.${filters.mode}.v1`);
  if (filters.tag.trim()) query.set("tags", filters.tag.trim());
  if (filters.search.trim()) query.set("search", filters.search.trim());
  return `/runs?${query}`;
}

/** Runs, newest first: filters, free-text search, pages, refreshed every few seconds. */
export function RunsList({ authVersion }: { authVersion: number }) {
  const [filters, setFilters] = useState<Filters>({ status: "", mode: "", tag: "", search: "" });
  const [applied, setApplied] = useState(filters);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<RunPage | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [now, setNow] = useState(Date.now());

  // Typing in the text fields applies after a short pause; selects apply at once.
  useEffect(() => {
    const timer = setTimeout(() => {
      setApplied(filters);
      setOffset(0);
    }, 300);
    return () => clearTimeout(timer);
  }, [filters.tag, filters.search]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const load = async () => {
      try {
        const next = await api<RunPage>("GET", listPath(applied, offset), undefined, controller.signal);
        if (stopped) return;
        setPage(next);
        setNow(Date.now());
        setError(undefined);
      } catch (failure) {
        if (stopped) return;
        setError(errorText(failure));
      }
      if (!stopped) timer = setTimeout(() => void load(), POLL_MS);
    };
    void load();
    return () => {
      stopped = true;
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [applied, offset, authVersion]);

  const select = (key: "status" | "mode", value: string) => {
    const next = { ...filters, [key]: value };
    setFilters(next);
    setApplied(next);
    setOffset(0);
  };
  const total = page?.total ?? 0;
  const last = Math.min(offset + PAGE_SIZE, total);

  return (
    <main class="runs-page">
      <h1>Runs</h1>
      <form class="filters" role="search" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status
          <select value={filters.status} onChange={(event) => select("status", (event.currentTarget as HTMLSelectElement).value)}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mode
          <select value={filters.mode} onChange={(event) => select("mode", (event.currentTarget as HTMLSelectElement).value)}>
            <option value="">any</option>
            {KNOWN_MODES.map((mode) => (
              <option key={mode} value={mode}>
                {mode}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input type="text" value={filters.tag} placeholder="e.g. demo" onInput={(event) => setFilters({ ...filters, tag: (event.currentTarget as HTMLInputElement).value })} />
        </label>
        <label class="grow">
          Search
          <input type="search" value={filters.search} placeholder="run id, session id, scenario, tag" onInput={(event) => setFilters({ ...filters, search: (event.currentTarget as HTMLInputElement).value })} />
        </label>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="muted" aria-live="polite">
        {page === undefined ? "Loading…" : total === 0 ? "No runs match." : `Runs ${offset + 1}–${last} of ${total}, refreshed every ${POLL_MS / 1000} s`}
      </p>
      <table class="runs">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Run</th>
            <th scope="col">Mode</th>
            <th scope="col">Participants</th>
            <th scope="col">Tags</th>
            <th scope="col">Age</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {page?.data.map((run) => {
            const summary = summarizeRun(run, now);
            return (
              <tr key={run.id} data-run-id={run.id} data-status={run.status}>
                <td data-label="Status">
                  <span class="cell">
                  <StatusBadge status={run.status} />
                </span>
                </td>
                <td data-label="Run">
                  <span class="cell">
                  <Link href={runHref(run.id)} aria-label={`run ${run.id}`}>
                    <code>{shortId(run.id)}</code>
                  </Link>
                  {summary.intent && <span class="intent"> {summary.intent}</span>}
                </span>
                </td>
                <td data-label="Mode">
                  <span class="cell">{modeLabel(summary.modeName)}</span>
                </td>
                <td data-label="Participants">
                  <span class="cell">{summary.participants.join(", ") || "—"}</span>
                </td>
                <td data-label="Tags">
                  <span class="cell">
                  {run.tags.map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))}
                </span>
                </td>
                <td data-label="Age">
                  <span class="cell">{formatAge(run.createdAt, now)}</span>
                </td>
                <td data-label="Duration">
                  <span class="cell">{summary.durationMs === undefined ? "—" : formatDuration(summary.durationMs)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
          ← Newer
        </button>
        <button type="button" disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
          Older →
        </button>
      </nav>
    </main>
  );
}
