// Human-readable times and durations for tables and headers.

/** "4 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long ago `iso` was, relative to `now` ("12 s ago"). */
export function formatAge(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "—";
  return `${formatDuration(Math.max(0, now - at))} ago`;
}

/** Wall-clock time of an ISO timestamp with milliseconds, e.g. 14:03:07.412 (UTC). */
export function formatClock(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "—" : at.toISOString().slice(11, 23);
}

/** The first 8 characters of an id: enough to tell runs apart in a list. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
