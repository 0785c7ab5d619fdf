import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api/client.js";
import type { ApiRun, CanonicalEvent, EventPage, ForkResult, RunStateProjection } from "../api/types.js";
import { Link } from "../components/link.js";
import { RunColumns } from "../components/run-columns.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatClock } from "../lib/format.js";
import { buildGraph } from "../lib/graph-model.js";
import { describeEvent, messagesOf } from "../lib/messages.js";
import { deriveModeView } from "../lib/mode-view.js";
import { summarizeRun } from "../lib/run-summary.js";
import { navigate, replayHref, runHref } from "../router.js";
import { usePolicy } from "./use-policy.js";

const SPEEDS = [1, 2, 5, 10] as const;
// Playback keeps the run's own pace between events, never waiting more than 2 s (÷ speed).
const MAX_GAP_MS = 2000;
const MIN_STEP_MS = 60;

async function allEvents(runId: string, signal: AbortSignal): Promise<CanonicalEvent[]> {
  const events: CanonicalEvent[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await api<EventPage>("GET", `/runs/${runId}/events?afterSeq=${afterSeq}&limit=1000`, undefined, signal);
    events.push(...page.data);
    if (page.nextCursor === null || page.data.length === 0) return events;
    afterSeq = Number(page.nextCursor);
  }
}

/**
 * Replay of a stored run: a scrubber over its seqs showing the state at each one (folded by the
 * control plane, `GET /runs/:id/replay/state?seq=`), play/pause at 1×–10×, single steps, and a
 * fork of the run at the shown seq.
 */
export function ReplayPage({ runId, initialSeq, authVersion }: { runId: string; initialSeq: number | undefined; authVersion: number }) {
  const [run, setRun] = useState<ApiRun | undefined>();
  const [events, setEvents] = useState<readonly CanonicalEvent[] | undefined>();
  const [index, setIndex] = useState(0);
  const [state, setState] = useState<RunStateProjection | undefined>();
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [error, setError] = useState<string | undefined>();
  const [forking, setForking] = useState(false);
  const cache = useRef(new Map<number, RunStateProjection>());

  useEffect(() => {
    const controller = new AbortController();
    cache.current.clear();
    setEvents(undefined);
    Promise.all([api<ApiRun>("GET", `/runs/${runId}`, undefined, controller.signal), allEvents(runId, controller.signal)]).then(
      ([nextRun, nextEvents]) => {
        setRun(nextRun);
        setEvents(nextEvents);
        const at = initialSeq === undefined ? nextEvents.length - 1 : nextEvents.findLastIndex((event) => event.seq <= initialSeq);
        setIndex(Math.max(0, at));
      },
      (failure: unknown) => !controller.signal.aborted && setError(errorText(failure)),
    );
    return () => controller.abort();
  }, [runId, authVersion]);

  const seq = events?.[index]?.seq;

  useEffect(() => {
    if (seq === undefined) return;
    history.replaceState(null, "", replayHref(runId, seq));
    const cached = cache.current.get(seq);
    if (cached) {
      setState(cached);
      return;
    }
    const controller = new AbortController();
    // While scrubbing, only the position the thumb rests on is read.
    const timer = setTimeout(() => {
      api<RunStateProjection>("GET", `/runs/${runId}/replay/state?seq=${seq}`, undefined, controller.signal).then(
        (next) => {
          cache.current.set(seq, next);
          setState(next);
        },
        (failure: unknown) => !controller.signal.aborted && setError(errorText(failure)),
      );
    }, 80);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [runId, seq]);

  useEffect(() => {
    if (!playing || events === undefined) return;
    if (index >= events.length - 1) {
      setPlaying(false);
      return;
    }
    const gap = Date.parse(events[index + 1]?.ts ?? "") - Date.parse(events[index]?.ts ?? "");
    const delay = Math.max(MIN_STEP_MS, (Number.isFinite(gap) ? Math.min(Math.max(gap, 0), MAX_GAP_MS) : 500) / speed);
    const timer = setTimeout(() => setIndex(index + 1), delay);
    return () => clearTimeout(timer);
  }, [playing, index, speed, events]);

  const summary = run ? summarizeRun(run, Date.now()) : undefined;
  const messages = useMemo(() => messagesOf(events ?? [], seq ?? 0), [events, seq]);
  const graph = useMemo(() => buildGraph(summary?.participants ?? [], messages), [summary?.participants.join(","), messages]);
  const modeView = useMemo(() => deriveModeView(summary?.modeKind ?? "other", messages), [summary?.modeKind, messages]);
  const policy = usePolicy(state?.policy.policyVersion || summary?.policyVersion || undefined);
  const shownEvents = useMemo(() => (events ?? []).filter((event) => event.seq <= (seq ?? 0)), [events, seq]);
  const current = events?.[index];
  const canFork = messages.some((message) => message.messageType === "SessionStart");
  const last = (events?.length ?? 1) - 1;

  const fork = async () => {
    if (seq === undefined) return;
    setForking(true);
    setError(undefined);
    try {
      const created = await api<ForkResult>("POST", `/runs/${runId}/fork`, { atSeq: seq });
      navigate(runHref(created.runId));
    } catch (failure) {
      setError(errorText(failure));
      setForking(false);
    }
  };

  return (
    <main class="replay-page">
      <header class="run-header">
        <h1>
          Replay of <Link href={runHref(runId)}>run <code>{runId}</code></Link>
        </h1>
        <div class="run-meta">
          {run && <StatusBadge status={run.status} />}
          <span>{summary?.modeName}</span>
        </div>
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {events === undefined ? (
        <p class="muted">Loading events…</p>
      ) : events.length === 0 ? (
        <p class="muted">This run has no events yet.</p>
      ) : (
        <>
          <section class="panel scrubber" aria-label="Replay controls">
            <label class="scrub">
              <span>
                Seq <strong class="scrub-seq">{seq}</strong> · event {index + 1} of {events.length}
              </span>
              <input
                type="range"
                min={0}
                max={last}
                step={1}
                value={index}
                aria-label="Position in the run (sequence number)"
                aria-valuetext={`seq ${seq}, event ${index + 1} of ${events.length}`}
                onInput={(event) => {
                  setPlaying(false);
                  setIndex(Number((event.currentTarget as HTMLInputElement).value));
                }}
              />
            </label>
            <div class="controls">
              <button type="button" aria-label="Step back" disabled={index === 0} onClick={() => setIndex(Math.max(0, index - 1))}>
                ◀ −1
              </button>
              <button
                type="button"
                aria-pressed={playing}
                onClick={() => {
                  if (!playing && index >= last) setIndex(0);
                  setPlaying(!playing);
                }}
              >
                {playing ? "❚❚ Pause" : "▶ Play"}
              </button>
              <button type="button" aria-label="Step forward" disabled={index >= last} onClick={() => setIndex(Math.min(last, index + 1))}>
                +1 ▶
              </button>
              <label>
                Speed
                <select value={String(speed)} onChange={(event) => setSpeed(Number((event.currentTarget as HTMLSelectElement).value))}>
                  {SPEEDS.map((value) => (
                    <option key={value} value={String(value)}>
                      {value}×
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" class="primary" disabled={forking || !canFork} title={canFork ? undefined : "a fork starts from the SessionStart: move past it"} onClick={() => void fork()}>
                {forking ? "Forking…" : `Fork from seq ${seq}`}
              </button>
            </div>
            {current && (
              <p class="current-event">
                <span class="clock">{formatClock(current.ts)}</span> <span class="type">{current.type}</span> {describeEvent(current)}
              </p>
            )}
            <dl class="facts state-facts" aria-label="State at this seq">
              <dt>State version</dt>
              <dd data-fact="version">{state?.version ?? "…"}</dd>
              <dt>Run status</dt>
              <dd data-fact="status">{state?.run.status ?? "…"}</dd>
              <dt>Events folded</dt>
              <dd data-fact="events">{state?.timeline.totalEvents ?? "…"}</dd>
              <dt>Participants</dt>
              <dd data-fact="participants">{state ? state.participants.map((participant) => `${participant.participantId} (${participant.messageCount})`).join(", ") || "none" : "…"}</dd>
              <dt>Decision</dt>
              <dd data-fact="decision">{state ? (state.decision.current?.action ?? "none") : "…"}</dd>
            </dl>
          </section>
          <RunColumns graph={graph} modeView={modeView} modeName={summary?.modeName ?? ""} run={undefined} projection={state} policy={policy} events={shownEvents} current={seq} />
        </>
      )}
    </main>
  );
}
