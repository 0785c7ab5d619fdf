import { useEffect, useMemo, useState } from "preact/hooks";
import { api, errorText } from "../api/client.js";
import type { ApiRun, CanonicalEvent, EventPage, RunComparison, RunPage, RunStateProjection } from "../api/types.js";
import { Link } from "../components/link.js";
import { ModePanel } from "../components/mode-panel.js";
import { PolicyPanel } from "../components/policy-panel.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatDuration, shortId } from "../lib/format.js";
import { messagesOf } from "../lib/messages.js";
import { deriveModeView } from "../lib/mode-view.js";
import { modeLabel, summarizeRun } from "../lib/run-summary.js";
import { compareHref, navigate, runHref } from "../router.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Side {
  readonly run: ApiRun;
  readonly state: RunStateProjection;
  readonly events: readonly CanonicalEvent[];
}

async function loadSide(runId: string, signal: AbortSignal): Promise<Side> {
  const [run, state, events] = await Promise.all([
    api<ApiRun>("GET", `/runs/${runId}`, undefined, signal),
    api<RunStateProjection>("GET", `/runs/${runId}/state`, undefined, signal),
    api<EventPage>("GET", `/runs/${runId}/events?afterSeq=0&limit=1000`, undefined, signal),
  ]);
  return { run, state, events: events.data };
}

function SideView({ side, label }: { side: Side; label: string }) {
  const summary = summarizeRun(side.run, Date.now());
  const messages = messagesOf(side.events);
  const view = deriveModeView(summary.modeKind, messages);
  return (
    <section class="compare-side" aria-label={`${label} run`}>
      <h2>
        {label}: <Link href={runHref(side.run.id)}>run <code>{shortId(side.run.id)}</code></Link> <StatusBadge status={side.run.status} />
      </h2>
      <p>
        {modeLabel(summary.modeName)} · {summary.participants.join(", ") || "no participants"} · {summary.durationMs === undefined ? "—" : formatDuration(summary.durationMs)}
      </p>
      {summary.intent && <p class="intent">{summary.intent}</p>}
      <ol class="message-list">
        {messages.map((message) => (
          <li key={message.seq}>
            <span class="seq">#{message.seq}</span> {message.sender} → {message.messageType}
          </li>
        ))}
      </ol>
      <ModePanel view={view} modeName={summary.modeName} projection={side.state} />
      <PolicyPanel run={side.run} projection={side.state} commitment={view.commitment} policy={undefined} />
    </section>
  );
}

/** Two runs side by side, with the control plane's comparison (`POST /runs/compare`) on top. */
export function ComparePage({ left, right, authVersion }: { left: string; right: string; authVersion: number }) {
  const [form, setForm] = useState({ left, right });
  const [recent, setRecent] = useState<readonly ApiRun[]>([]);
  const [result, setResult] = useState<{ comparison: RunComparison; left: Side; right: Side } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const ready = UUID.test(left) && UUID.test(right);

  useEffect(() => setForm({ left, right }), [left, right]);
  useEffect(() => {
    const controller = new AbortController();
    api<RunPage>("GET", "/runs?limit=50", undefined, controller.signal).then(
      (page) => setRecent(page.data),
      () => undefined,
    );
    return () => controller.abort();
  }, [authVersion]);
  useEffect(() => {
    setResult(undefined);
    setError(undefined);
    if (!ready) return;
    const controller = new AbortController();
    Promise.all([api<RunComparison>("POST", "/runs/compare", { leftRunId: left, rightRunId: right }, controller.signal), loadSide(left, controller.signal), loadSide(right, controller.signal)]).then(
      ([comparison, leftSide, rightSide]) => setResult({ comparison, left: leftSide, right: rightSide }),
      (failure: unknown) => !controller.signal.aborted && setError(errorText(failure)),
    );
    return () => controller.abort();
  }, [left, right, authVersion]);

  const options = useMemo(
    () =>
      recent.map((run) => {
        const summary = summarizeRun(run, Date.now());
        return { id: run.id, label: `${shortId(run.id)} ${modeLabel(summary.modeName)} ${run.status}${summary.intent ? ` — ${summary.intent}` : ""}` };
      }),
    [recent],
  );
  const comparison = result?.comparison;

  return (
    <main class="compare-page">
      <h1>Compare runs</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          navigate(compareHref(form.left.trim(), form.right.trim()));
        }}
      >
        {(["left", "right"] as const).map((key) => (
          <label key={key} class="grow">
            {key === "left" ? "Left run" : "Right run"}
            <select value={form[key]} onChange={(event) => setForm({ ...form, [key]: (event.currentTarget as HTMLSelectElement).value })}>
              <option value="">choose a run…</option>
              {form[key] !== "" && !options.some((option) => option.id === form[key]) && <option value={form[key]}>{form[key]}</option>}
              {options.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.label}
                </option>
              ))}
            </select>
          </label>
        ))}
        <button type="submit" class="primary" disabled={!UUID.test(form.left.trim()) || !UUID.test(form.right.trim())}>
          Compare
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {ready && !result && !error && <p class="muted">Loading…</p>}
      {comparison && result && (
        <>
          <section class="panel" aria-label="Differences">
            <h2>Differences</h2>
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                {comparison.left.status} vs {comparison.right.status} {comparison.statusMatch ? "(same)" : "(different)"}
              </dd>
              <dt>Mode</dt>
              <dd>
                {comparison.left.modeName ?? "—"} vs {comparison.right.modeName ?? "—"}
              </dd>
              <dt>Duration</dt>
              <dd>
                {comparison.left.durationMs === null ? "—" : formatDuration(comparison.left.durationMs)} vs {comparison.right.durationMs === null ? "—" : formatDuration(comparison.right.durationMs)}
                {comparison.durationDeltaMs !== null && ` (right ${comparison.durationDeltaMs >= 0 ? "+" : "−"}${formatDuration(Math.abs(comparison.durationDeltaMs))})`}
              </dd>
              <dt>Confidence</dt>
              <dd>{comparison.confidenceDelta === null ? "—" : `right ${comparison.confidenceDelta >= 0 ? "+" : ""}${comparison.confidenceDelta.toFixed(2)}`}</dd>
              <dt>Participants</dt>
              <dd>
                common {comparison.participantsDiff.common.join(", ") || "none"}; only right {comparison.participantsDiff.added.join(", ") || "none"}; only left {comparison.participantsDiff.removed.join(", ") || "none"}
              </dd>
              <dt>Signals</dt>
              <dd>
                only right {comparison.signalsDiff.added.join(", ") || "none"}; only left {comparison.signalsDiff.removed.join(", ") || "none"}
              </dd>
            </dl>
          </section>
          <div class="columns compare">
            <SideView side={result.left} label="Left" />
            <SideView side={result.right} label="Right" />
          </div>
        </>
      )}
    </main>
  );
}
