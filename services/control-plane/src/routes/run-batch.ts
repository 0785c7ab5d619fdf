import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { toHttpError } from "../http/errors.js";
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
  bundle?: RunExportBundle;
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
        description: "The export bundle of each run (default options of `GET /runs/:id/export`) under `results[].bundle`.",
        body: batchBody(BATCH_EXPORT_MAX_RUNS),
        response: {
          200: Type.Object({
            results: Type.Array(Type.Object({ runId: Type.String(), ok: Type.Boolean(), bundle: Type.Optional(ExportBundleSchema), error: Type.Optional(ItemError) })),
          }),
          ...errorResponses(400, 401, 403, 413),
        },
      },
    },
    async (request) => eachRun(request.body.runIds, async (runId) => ({ bundle: await exportRun(ctx.database.db, runId) })),
  );
};
