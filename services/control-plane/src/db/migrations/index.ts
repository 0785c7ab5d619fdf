import type { Migration } from "kysely";
import { init } from "./0001-init.js";
import { runLease } from "./0002-run-lease.js";
import { auditLog } from "./0003-audit-log.js";
import { rateLimits } from "./0004-rate-limits.js";
import { webhooks } from "./0005-webhooks.js";

/**
 * Every migration, by name; applied in name order. Add a file per change and one line here
 * (migrations are code, not files read at run time, so the built service needs no extra assets).
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001-init": init,
  "0002-run-lease": runLease,
  "0003-audit-log": auditLog,
  "0004-rate-limits": rateLimits,
  "0005-webhooks": webhooks,
};
