/** Dashboard windows the UI sends, in milliseconds. */
export const DASHBOARD_WINDOWS = { "15m": 900_000, "1h": 3_600_000, "6h": 21_600_000, "24h": 86_400_000, "7d": 604_800_000, "30d": 2_592_000_000 } as const;
export type DashboardWindow = keyof typeof DASHBOARD_WINDOWS;

/** The time range and bucket size of a dashboard query. */
export interface DashboardRange {
  readonly from: Date;
  readonly to: Date;
  readonly bucketMs: number;
  /** Bucket starts, ISO, oldest first: the `labels` of every time series. */
  readonly labels: string[];
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Buckets: minutes up to 6 h, hours up to 48 h, days beyond; aligned to the epoch. */
export function dashboardRange(window: DashboardWindow, now: Date, from?: Date, to?: Date): DashboardRange {
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DASHBOARD_WINDOWS[window]);
  const span = end.getTime() - start.getTime();
  const bucketMs = span <= 6 * HOUR ? MINUTE : span <= 48 * HOUR ? HOUR : DAY;
  const labels: string[] = [];
  for (let at = Math.floor(start.getTime() / bucketMs) * bucketMs; at < end.getTime(); at += bucketMs) labels.push(new Date(at).toISOString());
  return { from: start, to: end, bucketMs, labels };
}

/** A `{labels, data}` series with a value for every bucket (0 or `fill` where nothing happened). */
export function series(range: DashboardRange, rows: readonly { bucket: Date | string; value: number | string | null }[], fill = 0): { labels: string[]; data: number[] } {
  const byBucket = new Map(rows.map((row) => [new Date(row.bucket).toISOString(), row.value === null ? fill : Number(row.value)]));
  return { labels: range.labels, data: range.labels.map((label) => byBucket.get(label) ?? fill) };
}
