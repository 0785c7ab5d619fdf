import type { RunStatus } from "./schema.js";

/** Allowed run status moves (control-plane.md §1.6, with `suspended`). */
export const TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ["starting", "failed", "cancelled"],
  starting: ["binding_session", "failed", "cancelled"],
  binding_session: ["running", "failed", "cancelled", "completed"],
  running: ["completed", "failed", "cancelled", "suspended"],
  suspended: ["running", "completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};
