import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError, toHttpError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";
import { exportRun } from "../insights/run-export.js";
import type { RunExportBundle } from "../insights/run-export.js";
import { ExportBundleSchema } from "./run-insights.js";

/** Most runs one batch call may name. */
export const BATCH_MAX_RUNS = 100;
/** Export bundles are large: fewer per call. */
export const BATCH_EXPORT_MAX_RUNS = 20;

const batchBody = (maxItems: number) =>
  Type.Object({ runIds: Type.Array(Type.String({ format: "uuid" }), { minItems: 1, maxItems, uniqueItems: true }) }, { additionalProperties: false });

const ItemError = Type.Object({ statusCode: Type.Integer(), errorCode: Type.String(), message: Type.String() });
const BatchResult = Type.Object({
  results: Type.Array(Type.Object({ runId: Type.String(), ok: Type.Boolean(), status: Type.Optional(Type.String()), error: Type.Optional(ItemError) })),
});

interface ItemResult {
  runId: string;
  ok: boolean;
  status?: string;
  error?: { statusCode: number; errorCode: string; message: string };
}

/** Runs `action` on each run in order; one failure is reported in its item and never stops the rest. */
async function eachRun(runIds: readonly string[], action: (runId: string) => Promise<Omit<ItemResult, "runId" | "ok">>): Promise<{ results: ItemResult[] }> {
  const results: ItemResult[] = [];
  for (const runId of runIds) {
    try {
      results.push({ runId, ok: true, ...(await action(runId)) });
    } catch (error) {
      const { statusCode, errorCode, message } = toHttpError(error);
      results.push({ runId, ok: false, error: { statusCode, errorCode, message } });
    }
  }
  return { results };
}

/**
 * `POST /runs/batch/{cancel,archive,delete,export}`: static paths, registered before the `/runs/:id/…`
 * routes, and find-my-way prefers static segments anyway, so `batch` is never taken for a run id.
 */
export const runBatchRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const write = { scope: "runs:write" } as const;
  const schema = (description: string, maxItems: number) => ({
    tags: ["insights"],
    description,
    body: batchBody(maxItems),
    response: { 200: BatchResult, ...errorResponses(400, 401, 403, 413) },
  });

  app.post("/runs/batch/cancel", { config: write, schema: schema("Cancels each run through the runtime (as `POST /runs/:id/cancel`).", BATCH_MAX_RUNS) }, async (request) =>
    eachRun(request.body.runIds, async (runId) => ({ status: (await ctx.runs.cancel(runId, "batch cancel")).status })),
  );

  app.post("/runs/batch/archive", { config: write, schema: schema("Archives each run.", BATCH_MAX_RUNS) }, async (request) =>
    eachRun(request.body.runIds, async (runId) => {
      await ctx.runs.archive(runId);
      return { status: "archived" };
    }),
  );

  app.post("/runs/batch/delete", { config: write, schema: schema("Deletes each finished run.", BATCH_MAX_RUNS) }, async (request) =>
    eachRun(request.body.runIds, async (runId) => {
      await ctx.runs.remove(runId);
      return { status: "deleted" };
    }),
  );

  app.post(
    "/runs/batch/export",
    {
      config: { scope: "runs:read" },
      schema: {
        tags: ["insights"],
        description:
          "The export bundles of the runs, in request order, as a bare array (what the UI's batchExport reads), with the default options of `GET /runs/:id/export`. An unknown run id fails the whole call with 404 `RUN_NOT_FOUND` naming every missing id in `details.runIds` (an export changes nothing, so there is nothing half done).",
        body: batchBody(BATCH_EXPORT_MAX_RUNS),
        response: { 200: Type.Array(ExportBundleSchema), ...errorResponses(400, 401, 403, 404, 413) },
      },
    },
    async (request) => {
      const { db } = ctx.database;
      const { runIds } = request.body;
      const known = new Set((await db.selectFrom("runs").select("id").where("id", "in", runIds).execute()).map((row) => row.id));
      const missing = runIds.filter((runId) => !known.has(runId));
      if (missing.length > 0) throw new HttpError(404, "RUN_NOT_FOUND", `runs not found: ${missing.join(", ")}`, { runIds: missing });
      const bundles: RunExportBundle[] = [];
      for (const runId of runIds) bundles.push(await exportRun(db, runId));
      return bundles;
    },
  );
};
