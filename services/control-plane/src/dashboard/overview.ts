import { sql } from "kysely";
import type { Kysely, RawBuilder } from "kysely";
import type { Database } from "@macp/pipeline";
import { iso } from "../runs/run-record.js";
import type { DashboardRange } from "./windows.js";
import { series } from "./windows.js";

/** Filters of the overview beyond the time range. */
export interface OverviewFilter {
  readonly scenarioRef?: string;
  readonly environment?: string;
}

type Series = { labels: string[]; data: number[] };
type Row = { bucket: Date | string; value: number | string | null };

const ACTIVE = ["queued", "starting", "binding_session", "running"];

/** Runs of the range and filter (sandbox runs excluded, as in `GET /runs`). */
function runFilter(range: DashboardRange | undefined, filter: OverviewFilter, column: "created_at" | "ended_at"): RawBuilder<unknown> {
  return sql`${range !== undefined ? sql`r.${sql.ref(column)} >= ${range.from} and r.${sql.ref(column)} < ${range.to}` : sql`true`}
    and not (r.tags @> '["sandbox"]'::jsonb)
    ${filter.scenarioRef !== undefined ? sql`and (r.source_ref = ${filter.scenarioRef} or r.metadata->>'scenarioRef' = ${filter.scenarioRef})` : sql``}
    ${filter.environment !== undefined ? sql`and r.metadata->>'environment' = ${filter.environment}` : sql``}`;
}

function bucketOf(range: DashboardRange, column: RawBuilder<unknown>): RawBuilder<Date> {
  // Epoch-aligned buckets, the same as the labels dashboardRange computes.
  return sql<Date>`to_timestamp(floor(extract(epoch from ${column}) * 1000 / ${range.bucketMs}) * ${range.bucketMs} / 1000.0)`;
}

const DURATION_MS = sql`extract(epoch from (r.ended_at - r.started_at)) * 1000`;

/** `GET /dashboard/overview`: KPIs and time series computed with SQL aggregates. */
export async function dashboardOverview(db: Kysely<Database>, range: DashboardRange, filter: OverviewFilter) {
  const created = runFilter(range, filter, "created_at");
  const ended = runFilter(range, filter, "ended_at");
  const byCreated = bucketOf(range, sql`r.created_at`);
  const byEnded = bucketOf(range, sql`r.ended_at`);
  const rows = async <T>(query: RawBuilder<T>): Promise<T[]> => (await query.execute(db)).rows;

  const [kpiRows, runVolume, endedStats, errorClasses, signalVolume, cost, decisions, perScenario, queueDepth, recent] = await Promise.all([
    rows(sql<Record<string, string | number | null>>`
      select count(*) as "totalRuns",
        count(*) filter (where r.status in (${sql.join(ACTIVE)})) as "activeRuns",
        count(*) filter (where r.status = 'completed') as "completedRuns",
        count(*) filter (where r.status = 'failed') as "failedRuns",
        count(*) filter (where r.status = 'cancelled') as "cancelledRuns",
        count(*) filter (where r.status = 'suspended') as "suspendedRuns",
        avg(${DURATION_MS}) filter (where r.ended_at is not null and r.started_at is not null) as "avgDurationMs",
        coalesce(sum((m.summary->>'signalCount')::numeric), 0) as "totalSignals",
        coalesce(sum((m.summary->>'totalTokens')::numeric), 0) as "totalTokens",
        coalesce(sum((m.summary->>'estimatedCostUsd')::numeric), 0) as "totalCostUsd"
      from runs r left join run_metrics m on m.run_id = r.id where ${created}`),
    rows(sql<Row>`select ${byCreated} as bucket, count(*) as value from runs r where ${created} group by 1`),
    rows(sql<{ bucket: Date; ended: string; completed: string; avg: number | null; p50: number | null; p95: number | null; p99: number | null }>`
      select ${byEnded} as bucket, count(*) as ended, count(*) filter (where r.status = 'completed') as completed,
        avg(${DURATION_MS}) as avg,
        percentile_cont(0.5) within group (order by ${DURATION_MS}) as p50,
        percentile_cont(0.95) within group (order by ${DURATION_MS}) as p95,
        percentile_cont(0.99) within group (order by ${DURATION_MS}) as p99
      from runs r where ${ended} and r.status in ('completed', 'failed', 'cancelled') group by 1`),
    rows(sql<{ code: string; value: string }>`select coalesce(r.error_code, 'UNKNOWN') as code, count(*) as value from runs r where ${created} and r.status = 'failed' group by 1 order by 2 desc, 1 limit 20`),
    rows(sql<Row>`select ${bucketOf(range, sql`e.ts`)} as bucket, count(*) as value from run_events_canonical e join runs r on r.id = e.run_id
      where e.type = 'signal.emitted' and e.ts >= ${range.from} and e.ts < ${range.to} and ${runFilter(undefined, filter, "created_at")} group by 1`),
    rows(sql<Row>`select ${byCreated} as bucket, coalesce(sum((m.summary->>'estimatedCostUsd')::numeric), 0) as value from runs r join run_metrics m on m.run_id = r.id where ${created} group by 1`),
    rows(sql<Row>`select ${byEnded} as bucket,
        sum(case p.state->'decision'->'current'->>'outcomePositive' when 'true' then 1 when 'false' then -1 else 0 end) as value
      from runs r join run_projections p on p.run_id = r.id where ${ended} and (p.state->'decision'->'current'->>'finalized') = 'true' group by 1`),
    rows(sql<{ scenario: string; value: string }>`select coalesce(r.metadata->>'scenarioRef', r.source_ref) as scenario, count(*) as value from runs r
      where ${created} and coalesce(r.metadata->>'scenarioRef', r.source_ref) is not null group by 1 order by 2 desc, 1 limit 10`),
    rows(sql<Row>`select b.bucket, count(r.id) as value
      from generate_series(to_timestamp(${Date.parse(range.labels[0] ?? range.from.toISOString()) / 1000}::float8), to_timestamp(${Date.parse(range.labels.at(-1) ?? range.from.toISOString()) / 1000}::float8), ${sql.lit(`${range.bucketMs} milliseconds`)}::interval) as b(bucket)
      left join runs r on r.created_at < b.bucket + ${sql.lit(`${range.bucketMs} milliseconds`)}::interval
        and (r.started_at is null or r.started_at >= b.bucket + ${sql.lit(`${range.bucketMs} milliseconds`)}::interval)
        and (r.ended_at is null or r.ended_at >= b.bucket + ${sql.lit(`${range.bucketMs} milliseconds`)}::interval)
        and not (r.tags @> '["sandbox"]'::jsonb)
      group by 1`),
    db
      .selectFrom("runs as r")
      .select(["r.id", "r.status", "r.runtime_kind", "r.source_ref", "r.started_at", "r.ended_at", "r.created_at"])
      .where(created as RawBuilder<boolean>)
      .orderBy("r.created_at", "desc")
      .orderBy("r.id", "desc")
      .limit(10)
      .execute(),
  ]);

  const kpi = kpiRows[0] ?? {};
  const count = (key: string): number => Number(kpi[key] ?? 0);
  const finished = count("completedRuns") + count("failedRuns") + count("cancelledRuns");
  const endedSeries = (pick: (row: (typeof endedStats)[number]) => number | string | null): Series =>
    series(
      range,
      endedStats.map((row) => ({ bucket: row.bucket, value: pick(row) })),
    );
  return {
    kpis: {
      totalRuns: count("totalRuns"),
      activeRuns: count("activeRuns"),
      completedRuns: count("completedRuns"),
      failedRuns: count("failedRuns"),
      cancelledRuns: count("cancelledRuns"),
      suspendedRuns: count("suspendedRuns"),
      successRate: finished === 0 ? null : (count("completedRuns") / finished) * 100,
      avgDurationMs: kpi.avgDurationMs === null || kpi.avgDurationMs === undefined ? null : Number(kpi.avgDurationMs),
      totalSignals: count("totalSignals"),
      totalTokens: count("totalTokens"),
      totalCostUsd: count("totalCostUsd"),
    },
    charts: {
      runVolume: series(range, runVolume),
      latency: endedSeries((row) => row.avg),
      latencyP50: endedSeries((row) => row.p50),
      latencyP95: endedSeries((row) => row.p95),
      latencyP99: endedSeries((row) => row.p99),
      throughput: endedSeries((row) => row.completed),
      successRate: endedSeries((row) => (Number(row.ended) === 0 ? null : (Number(row.completed) / Number(row.ended)) * 100)),
      errorClasses: { labels: errorClasses.map((row) => row.code), data: errorClasses.map((row) => Number(row.value)) },
      signalVolume: series(range, signalVolume),
      queueDepth: series(range, queueDepth),
      cost: series(range, cost),
      decisionOutcome: series(range, decisions),
      perScenario: { labels: perScenario.map((row) => row.scenario), data: perScenario.map((row) => Number(row.value)) },
    },
    recentRuns: recent.map((row) => ({
      id: row.id,
      status: row.status,
      runtimeKind: row.runtime_kind,
      sourceRef: row.source_ref,
      startedAt: iso(row.started_at),
      endedAt: iso(row.ended_at),
      createdAt: iso(row.created_at) as string,
    })),
  };
}

/** `GET /dashboard/agents/metrics`: per participant, from the stored projections and signal events. */
export async function agentMetrics(db: Kysely<Database>) {
  const { rows } = await sql<{ participantId: string; runs: string; messages: string; signals: string; averageConfidence: number | string }>`
    with participation as (
      select p.run_id, x->>'participantId' as participant_id, coalesce((x->>'messageCount')::int, 0) as messages
      from run_projections p cross join lateral jsonb_array_elements(p.state->'participants') as x
    ), signals as (
      select e.data->>'sender' as participant_id, count(*) as signals from run_events_canonical e
      where e.type = 'signal.emitted' and e.data->>'sender' is not null group by 1
    ), confidence as (
      select x->>'participantId' as participant_id, avg((x->>'confidence')::float8) as confidence
      from run_projections p cross join lateral jsonb_array_elements(coalesce(p.state->'decision'->'current'->'proposals', '[]'::jsonb)) as x
      where x->>'confidence' is not null group by 1
    )
    select pa.participant_id as "participantId", count(distinct pa.run_id) as runs, sum(pa.messages) as messages,
      coalesce(max(s.signals), 0) as signals, coalesce(max(c.confidence), 0) as "averageConfidence"
    from participation pa left join signals s on s.participant_id = pa.participant_id left join confidence c on c.participant_id = pa.participant_id
    where pa.participant_id is not null
    group by pa.participant_id order by runs desc, pa.participant_id limit 500`.execute(db);
  return rows.map((row) => ({
    participantId: row.participantId,
    runs: Number(row.runs),
    messages: Number(row.messages),
    signals: Number(row.signals),
    averageConfidence: Number(row.averageConfidence),
  }));
}
