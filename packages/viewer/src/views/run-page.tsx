import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api/client.js";
import { followRun } from "../api/run-stream.js";
import type { StreamStatus } from "../api/run-stream.js";
import type { ApiRun, CanonicalEvent, RunStateProjection } from "../api/types.js";
import { Link } from "../components/link.js";
import { RunColumns } from "../components/run-columns.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatAge, formatDuration } from "../lib/format.js";
import { buildGraph } from "../lib/graph-model.js";
import { messagesOf } from "../lib/messages.js";
import { deriveModeView } from "../lib/mode-view.js";
import { allowedActions, summarizeRun } from "../lib/run-summary.js";
import { compareHref, replayHref } from "../router.js";
import { usePolicy } from "./use-policy.js";

const STREAM_LABEL: Record<StreamStatus, string> = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", ended: "run ended" };

/** One run as it happens: header and controls, participant graph, mode view, policy, timeline. */
export function RunPage({ runId, authVersion }: { runId: string; authVersion: number }) {
  const [run, setRun] = useState<ApiRun | undefined>();
  const [projection, setProjection] = useState<RunStateProjection | undefined>();
  const [events, setEvents] = useState<readonly CanonicalEvent[]>([]);
  const [stream, setStream] = useState<{ status: StreamStatus; detail?: string }>({ status: "connecting" });
  const [error, setError] = useState<string | undefined>();
  const [actionError, setActionError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const refresh = useRef<() => void>(() => undefined);

  useEffect(() => {
    let stopped = false;
    let stateTimer: ReturnType<typeof setTimeout> | undefined;
    let runTimer: ReturnType<typeof setTimeout> | undefined;
    setRun(undefined);
    setProjection(undefined);
    setEvents([]);
    setError(undefined);
    const loadRun = () =>
      api<ApiRun>("GET", `/runs/${runId}`).then(
        (next) => {
          if (stopped) return;
          setRun(next);
          setNow(Date.now());
        },
        (failure: unknown) => !stopped && setError(errorText(failure)),
      );
    const loadState = () =>
      api<RunStateProjection>("GET", `/runs/${runId}/state`).then(
        (next) => !stopped && setProjection((current) => (current === undefined || next.version >= current.version ? next : current)),
        () => undefined,
      );
    // A busy run costs at most one state read a second (requests count against the caller's
    // rate limit); the run record is read again only when its status may have changed.
    const soon = (event?: CanonicalEvent) => {
      stateTimer ??= setTimeout(() => {
        stateTimer = undefined;
        void loadState();
      }, 1000);
      if (event !== undefined && !event.type.startsWith("run.") && event.type !== "session.state.changed") return;
      runTimer ??= setTimeout(() => {
        runTimer = undefined;
        void loadRun();
      }, 300);
    };
    refresh.current = soon;
    void loadRun();
    const stop = followRun(runId, {
      snapshot: (next) => setProjection(next),
      event: (event) => {
        setEvents((current) => [...current, event]);
        soon(event);
      },
      terminal: () => soon(),
      status: (status, detail) => setStream({ status, ...(detail === undefined ? {} : { detail }) }),
    });
    const ticker = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      stopped = true;
      stop();
      clearInterval(ticker);
      if (stateTimer !== undefined) clearTimeout(stateTimer);
      if (runTimer !== undefined) clearTimeout(runTimer);
    };
  }, [runId, authVersion]);

  const summary = run ? summarizeRun(run, now) : undefined;
  const messages = useMemo(() => messagesOf(events), [events]);
  const graph = useMemo(() => buildGraph(summary?.participants ?? [], messages), [summary?.participants.join(","), messages]);
  const modeView = useMemo(() => deriveModeView(summary?.modeKind ?? "other", messages), [summary?.modeKind, messages]);
  const policy = usePolicy(projection?.policy.policyVersion || summary?.policyVersion || modeView.commitment?.policyVersion || undefined);
  const actions = run ? allowedActions(run.status) : { cancel: false, suspend: false, resume: false };
  const lastSeq = events.at(-1)?.seq;

  const act = async (action: "cancel" | "suspend" | "resume") => {
    setBusy(true);
    setActionError(undefined);
    try {
      setRun(await api<ApiRun>("POST", `/runs/${runId}/${action}`, { reason: `${action} from the run viewer` }));
      refresh.current();
    } catch (failure) {
      setActionError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  if (error && !run) {
    return (
      <main>
        <h1>Run {runId}</h1>
        <p class="error" role="alert">
          {error}
        </p>
        <Link href="/">Back to runs</Link>
      </main>
    );
  }

  return (
    <main class="run-page">
      <header class="run-header">
        <h1>
          Run <code>{runId}</code>
        </h1>
        <div class="run-meta">
          {run && <StatusBadge status={run.status} />}
          <span>{summary?.modeName || "…"}</span>
          {run && <span>created {formatAge(run.createdAt, now)}</span>}
          {summary?.durationMs !== undefined && <span>duration {formatDuration(summary.durationMs)}</span>}
          {run && run.tags.length > 0 && <span>tags {run.tags.join(", ")}</span>}
          <span class={`stream stream-${stream.status}`} role="status" aria-live="polite" title={stream.detail}>
            {STREAM_LABEL[stream.status]}
            {lastSeq !== undefined && ` · seq ${lastSeq}`}
          </span>
        </div>
        {summary?.intent && <p class="intent">{summary.intent}</p>}
        <div class="actions">
          <Link href={replayHref(runId)} class="button">
            Replay
          </Link>
          <Link href={compareHref(runId, "")} class="button">
            Compare…
          </Link>
          {actions.suspend && (
            <button type="button" disabled={busy} onClick={() => void act("suspend")}>
              Suspend
            </button>
          )}
          {actions.resume && (
            <button type="button" disabled={busy} onClick={() => void act("resume")}>
              Resume
            </button>
          )}
          {actions.cancel && (
            <button type="button" class="danger" disabled={busy} onClick={() => void act("cancel")}>
              Cancel run
            </button>
          )}
        </div>
        {actionError && (
          <p class="error" role="alert">
            {actionError}
          </p>
        )}
      </header>
      <RunColumns graph={graph} modeView={modeView} modeName={summary?.modeName ?? ""} run={run} projection={projection} policy={policy} events={events} />
    </main>
  );
}
