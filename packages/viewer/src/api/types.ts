import type { CanonicalEvent, RunStateProjection } from "@macp/events";

export type { CanonicalEvent, RunStateProjection };

/** Run statuses of the control plane. */
export type RunStatus = "queued" | "starting" | "binding_session" | "running" | "suspended" | "completed" | "failed" | "cancelled";

/** Statuses after which a run never changes. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/** A run as `GET /runs` and `GET /runs/:id` return it. */
export interface ApiRun {
  readonly id: string;
  readonly status: RunStatus;
  /** `live` or `sandbox` (the coordination mode is in the stored request's session). */
  readonly mode: string;
  readonly runtimeSessionId: string | null;
  readonly lastEventSeq: number;
  readonly sourceRef: string | null;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly updatedAt: string;
}

/** One page of `GET /runs`. */
export interface RunPage {
  readonly data: readonly ApiRun[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/** One page of `GET /runs/:id/events`. */
export interface EventPage {
  readonly data: readonly CanonicalEvent[];
  readonly total: number;
  readonly limit: number;
  readonly nextCursor: string | null;
}

/** `POST /runs/compare`. */
export interface RunComparison {
  readonly left: CompareSide;
  readonly right: CompareSide;
  readonly statusMatch: boolean;
  readonly durationDeltaMs: number | null;
  readonly confidenceDelta: number | null;
  readonly participantsDiff: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly common: readonly string[] };
  readonly signalsDiff: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

/** One side of a comparison. */
export interface CompareSide {
  readonly runId: string;
  readonly status: string;
  readonly modeName: string | null;
  readonly durationMs: number | null;
  readonly confidence: number | null;
}

/** `POST /runs/:id/fork`. */
export interface ForkResult {
  readonly runId: string;
  readonly sessionId: string | null;
  readonly status: string;
  readonly forkOf: { readonly runId: string; readonly atSeq: number };
}

/** A policy as `GET /runtime/policies/:id` describes it. */
export interface PolicyDescriptor {
  readonly policyId: string;
  readonly mode: string;
  readonly description?: string;
  readonly rules: unknown;
}
