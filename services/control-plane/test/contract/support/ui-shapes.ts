/**
 * What the MACP UI console reads from each response (control-plane-api.md §11, the UI's
 * `lib/types.ts` and `lib/api/client.ts`), as shapes. Optional UI fields (`x?: T`) accept absent
 * or null; fields the UI uses unconditionally must be present with their type.
 */
import { arrayOf, maybe, nullable, objectWith, oneOf, recordOf } from "./shape.js";
import type { Shape } from "./shape.js";

const str = "string" as const;
const num = "number" as const;
const int = "integer" as const;
const bool = "boolean" as const;
const iso = "iso" as const;
const uuid = "uuid" as const;

export const RUN_STATUS = oneOf("queued", "starting", "binding_session", "running", "suspended", "completed", "failed", "cancelled");

/** `normalizeRun` throws without `id`, `status`, `runtimeKind`; the list and detail pages read the rest. */
export const runRecord: Shape = objectWith({
  id: uuid,
  status: RUN_STATUS,
  runtimeKind: str,
  runtimeVersion: maybe(str),
  runtimeSessionId: maybe(str),
  traceId: maybe(str),
  createdAt: iso,
  startedAt: maybe(iso),
  endedAt: maybe(iso),
  tags: arrayOf(str),
  sourceKind: maybe(str),
  sourceRef: maybe(str),
  source: maybe(objectWith({ kind: maybe(str), ref: maybe(str) })),
  metadata: objectWith({ environment: maybe(str), scenarioRef: maybe(str) }),
  archivedAt: maybe(iso),
});

export const createRunResponse: Shape = objectWith({ runId: uuid, sessionId: maybe(str), status: RUN_STATUS, traceId: maybe(str) });

export const validateRunResponse: Shape = objectWith({
  valid: bool,
  errors: arrayOf(str),
  warnings: arrayOf(str),
  runtime: objectWith({ reachable: bool, supportedModes: arrayOf(str), capabilities: maybe("any") }),
});

/** The nested event shape (`normalizeEvent` passes it through unchanged). */
export const canonicalEvent: Shape = objectWith({
  id: str,
  runId: uuid,
  seq: int,
  ts: iso,
  type: str,
  schemaVersion: maybe(int),
  subject: maybe(objectWith({ kind: str, id: str })),
  source: objectWith({ kind: oneOf("runtime", "control-plane", "replay"), name: str, rawType: maybe(str) }),
  trace: maybe(objectWith({ traceId: maybe(str), spanId: maybe(str), parentSpanId: maybe(str) })),
  data: "object",
});

/** `GET /runs/:id/events`: the UI accepts a bare array or `{data}`. */
export const eventPage: Shape = objectWith({ data: arrayOf(canonicalEvent, true), total: int, limit: int, nextCursor: maybe(str) });

const proposalContribution = objectWith({ participantId: str, action: str, confidence: maybe(num), reasons: arrayOf(str), ts: iso, vote: maybe(oneOf("allow", "deny")) });

/** RunStateProjection, block by block. */
export const runStateProjection: Shape = objectWith({
  run: objectWith({ runId: uuid, status: RUN_STATUS, runtimeSessionId: maybe(str), startedAt: maybe(iso), endedAt: maybe(iso), traceId: maybe(str), modeName: maybe(str) }),
  participants: arrayOf(
    objectWith({ participantId: str, role: maybe(str), status: oneOf("idle", "active", "waiting", "completed", "failed", "skipped"), latestActivityAt: maybe(iso), latestSummary: maybe(str) }),
  ),
  graph: objectWith({ nodes: arrayOf(objectWith({ id: str, kind: str, status: str })), edges: arrayOf(objectWith({ from: str, to: str, kind: str, ts: iso })) }),
  decision: objectWith({
    current: maybe(
      objectWith({
        action: str,
        confidence: maybe(num),
        reasons: maybe(arrayOf(str)),
        finalized: bool,
        outcomePositive: maybe(bool),
        proposalId: maybe(str),
        proposals: maybe(arrayOf(proposalContribution)),
        resolvedAt: maybe(iso),
        resolvedBy: maybe(str),
        prompt: maybe(str),
        supersedes: maybe("object"),
      }),
    ),
  }),
  signals: objectWith({
    signals: arrayOf(objectWith({ id: str, name: str, severity: maybe(str), sourceParticipantId: maybe(str), ts: iso, confidence: maybe(num), payload: maybe("any") })),
  }),
  progress: objectWith({ entries: arrayOf(objectWith({ participantId: str, percentage: maybe(num), message: maybe(str), ts: iso })) }),
  timeline: objectWith({
    latestSeq: int,
    totalEvents: int,
    recent: arrayOf(objectWith({ id: str, seq: int, ts: iso, type: str, subject: maybe(objectWith({ kind: str, id: str })) })),
  }),
  policy: objectWith({
    policyVersion: str,
    policyDescription: maybe(str),
    resolvedAt: maybe(iso),
    outcomePositive: maybe(bool),
    commitmentEvaluations: arrayOf(objectWith({ commitmentId: str, decision: str, reasons: arrayOf(str), ts: iso })),
    expectedCommitments: maybe(arrayOf(objectWith({ commitmentId: str, title: maybe(str), description: maybe(str), requiredRoles: maybe(arrayOf(str)) }))),
    voteTally: maybe(arrayOf(objectWith({ commitmentId: str, allow: int, deny: int, threshold: num, quorum: objectWith({ required: int, cast: int }) }))),
    quorumStatus: maybe(oneOf("pending", "reached", "failed")),
  }),
  trace: objectWith({ traceId: maybe(str), spanCount: int, lastSpanId: maybe(str), linkedArtifacts: arrayOf(str) }),
  outboundMessages: objectWith({ total: int, queued: int, accepted: int, rejected: int }),
  llm: maybe(objectWith({ calls: arrayOf("object"), totals: "object" })),
});

export const metricsSummary: Shape = objectWith({
  runId: uuid,
  eventCount: int,
  messageCount: int,
  signalCount: int,
  proposalCount: int,
  toolCallCount: int,
  decisionCount: int,
  streamReconnectCount: int,
  firstEventAt: maybe(iso),
  lastEventAt: maybe(iso),
  durationMs: maybe(num),
  sessionState: maybe(str),
  promptTokens: int,
  completionTokens: int,
  totalTokens: int,
  estimatedCostUsd: num,
});

export const traceSummary: Shape = objectWith({ traceId: maybe(str), spanCount: int, lastSpanId: maybe(str), linkedArtifacts: arrayOf(str) });

export const artifact: Shape = objectWith({
  id: str,
  runId: uuid,
  kind: oneOf("trace", "json", "report", "log", "bundle"),
  label: str,
  uri: maybe(str),
  inline: maybe("any"),
  createdAt: iso,
});

export const replayDescriptor: Shape = objectWith({
  runId: uuid,
  mode: oneOf("instant", "timed", "step"),
  speed: num,
  fromSeq: maybe(int),
  toSeq: maybe(int),
  streamUrl: str,
  stateUrl: str,
});

const comparedRun = objectWith({ runId: uuid, status: RUN_STATUS, modeName: maybe(str), durationMs: maybe(num) });
export const runComparison: Shape = objectWith({
  left: comparedRun,
  right: comparedRun,
  statusMatch: bool,
  durationDeltaMs: maybe(num),
  confidenceDelta: maybe(num),
  participantsDiff: objectWith({ added: arrayOf(str), removed: arrayOf(str), common: arrayOf(str) }),
  signalsDiff: objectWith({ added: arrayOf(str), removed: arrayOf(str) }),
});

export const exportBundle: Shape = objectWith({
  run: runRecord,
  session: nullable("object"),
  projection: nullable(runStateProjection),
  canonicalEvents: nullable(arrayOf(canonicalEvent)),
  rawEvents: nullable(arrayOf("object")),
  artifacts: arrayOf(artifact),
  metrics: nullable(metricsSummary),
  exportedAt: iso,
});

/** `{results: [{runId, ok}]}` (the UI's BatchOperationResult). */
export const batchResult: Shape = objectWith({ results: arrayOf(objectWith({ runId: uuid, ok: bool }), true) });

export const rebuildResult: Shape = objectWith({ rebuilt: bool, latestSeq: int });

export const runtimeManifest: Shape = objectWith({ agentId: str, title: maybe(str), description: maybe(str), supportedModes: arrayOf(str, true), metadata: maybe(recordOf(str)) });

export const runtimeMode: Shape = objectWith({
  mode: str,
  modeVersion: str,
  title: maybe(str),
  description: maybe(str),
  determinismClass: maybe(str),
  participantModel: maybe(str),
  messageTypes: arrayOf(str, true),
  terminalMessageTypes: arrayOf(str),
  schemaUris: maybe(recordOf(str)),
});

export const runtimeRoot: Shape = objectWith({ uri: str, name: maybe(str) });

export const runtimeHealth: Shape = objectWith({ ok: bool, runtimeKind: str, detail: maybe(str), manifest: maybe("object") });

export const runtimePolicy: Shape = objectWith({ policyId: str, mode: str, description: str, rules: "object", schemaVersion: int, registeredAtUnixMs: maybe(num) });

export const policyAck: Shape = objectWith({ ok: bool, error: maybe(str) });

export const auditList: Shape = objectWith({
  data: arrayOf(objectWith({ id: maybe(str), actor: str, actorType: str, action: str, resource: str, resourceId: maybe(str), details: maybe("object"), requestId: maybe(str), createdAt: iso }), true),
  total: int,
});

const chart = objectWith({ labels: arrayOf(str), data: arrayOf(num) });
export const DASHBOARD_CHARTS = ["runVolume", "latency", "errorClasses", "signalVolume", "throughput", "queueDepth", "latencyP50", "latencyP95", "latencyP99", "cost", "successRate", "decisionOutcome", "perScenario"] as const;

export const dashboardOverview: Shape = objectWith({
  kpis: objectWith({
    totalRuns: int,
    activeRuns: int,
    completedRuns: int,
    failedRuns: int,
    cancelledRuns: int,
    suspendedRuns: maybe(int),
    declinedRuns: maybe(int),
    successRate: maybe(num),
    avgDurationMs: maybe(num),
    totalSignals: int,
    totalCostUsd: num,
    totalTokens: int,
  }),
  charts: objectWith(Object.fromEntries(DASHBOARD_CHARTS.map((name) => [name, chart]))),
  recentRuns: arrayOf(objectWith({ id: uuid, status: RUN_STATUS, runtimeKind: str, createdAt: iso, startedAt: maybe(iso), endedAt: maybe(iso) })),
  runtimeHealth: objectWith({ ok: bool, runtimeKind: str, detail: maybe(str) }),
});

export const agentMetrics: Shape = arrayOf(objectWith({ participantId: str, runs: int, signals: int, messages: int, averageConfidence: num }), true);

export const readiness: Shape = objectWith({
  ok: bool,
  database: str,
  runtime: objectWith({ ok: bool, runtimeKind: str, detail: maybe(str) }),
  streamConsumer: str,
  circuitBreaker: str,
});
