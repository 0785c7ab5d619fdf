import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { MacpClientError } from "@macp/client";
import type { CallOptions } from "@macp/client";
import type { PolicyDescriptor } from "@macp/protocol";
import { Type } from "typebox";
import type { RoutePluginOptions } from "../context.js";
import { HttpError, fromRuntimeError } from "../http/errors.js";
import { errorResponses } from "../http/schemas.js";

/** The runtime's built-in policy: never registered or removed through the API. */
const DEFAULT_POLICY_ID = "policy.default";

const StringMap = Type.Record(Type.String(), Type.String());
const ManifestSchema = Type.Object({
  agentId: Type.String(),
  title: Type.String(),
  description: Type.String(),
  supportedModes: Type.Array(Type.String()),
  inputContentTypes: Type.Array(Type.String()),
  outputContentTypes: Type.Array(Type.String()),
  metadata: StringMap,
  transportEndpoints: Type.Array(Type.Object({ transport: Type.String(), uri: Type.String(), contentTypes: Type.Array(Type.String()), metadata: StringMap })),
});
const ModeSchema = Type.Object({
  mode: Type.String(),
  modeVersion: Type.String(),
  title: Type.String(),
  description: Type.String(),
  determinismClass: Type.String(),
  participantModel: Type.String(),
  messageTypes: Type.Array(Type.String()),
  terminalMessageTypes: Type.Array(Type.String()),
  schemaUris: StringMap,
});
const PolicySchema = Type.Object({
  policyId: Type.String(),
  mode: Type.String(),
  description: Type.String(),
  rules: Type.Unknown({ description: "the policy rules, parsed from the runtime's JSON" }),
  schemaVersion: Type.Integer(),
  registeredAtUnixMs: Type.Integer(),
});
const RegistryOutcome = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });
const PolicyIdParams = Type.Object({ policyId: Type.String({ minLength: 1, maxLength: 256 }) });

function parsedRules(rules: string): unknown {
  try {
    return JSON.parse(rules) as unknown;
  } catch {
    return rules;
  }
}

function toApiPolicy(descriptor: PolicyDescriptor) {
  return {
    policyId: descriptor.policyId,
    mode: descriptor.mode,
    description: descriptor.description,
    rules: parsedRules(descriptor.rules),
    schemaVersion: descriptor.schemaVersion,
    registeredAtUnixMs: Number(descriptor.registeredAtUnixMs),
  };
}

/**
 * Runtime discovery and policy registry, proxied with the control plane's own runtime credential;
 * gRPC failures go through the one error edge (`fromRuntimeError`).
 */
export const runtimeRoutes: FastifyPluginAsyncTypebox<RoutePluginOptions> = async (app, { ctx }) => {
  const { runtime } = ctx;
  const read = { scope: "runs:read" } as const;
  const admin = { scope: "admin" } as const;
  const call = <T>(method: string, run: (options: CallOptions) => Promise<T>): Promise<T> =>
    runtime.call(method, run, runtime.ownAuth()).catch((error: unknown) => {
      throw error instanceof MacpClientError ? fromRuntimeError(error) : error;
    });

  const exists = (policyId: string): Promise<boolean> =>
    call("GetPolicy", (options) => runtime.client.getPolicy({ policyId }, options)).then(
      () => true,
      (error: unknown) => {
        if (error instanceof HttpError && error.statusCode === 404) return false;
        throw error;
      },
    );

  app.get("/runtime/manifest", { config: read, schema: { tags: ["runtime"], response: { 200: ManifestSchema, ...errorResponses(401, 403, 502, 503, 504) } } }, async () => {
    const { manifest } = await call("GetManifest", (options) => runtime.client.getManifest({}, options));
    if (!manifest) throw new HttpError(502, "RUNTIME_ERROR", "runtime: GetManifest answered without a manifest");
    return manifest;
  });

  app.get("/runtime/modes", { config: read, schema: { tags: ["runtime"], response: { 200: Type.Array(ModeSchema), ...errorResponses(401, 403, 502, 503, 504) } } }, async () => {
    return (await call("ListModes", (options) => runtime.client.listModes(options))).modes;
  });

  app.get(
    "/runtime/roots",
    { config: read, schema: { tags: ["runtime"], response: { 200: Type.Array(Type.Object({ uri: Type.String(), name: Type.String() })), ...errorResponses(401, 403, 502, 503, 504) } } },
    async () => (await call("ListRoots", (options) => runtime.client.listRoots(options))).roots,
  );

  app.get(
    "/runtime/health",
    {
      config: read,
      schema: {
        tags: ["runtime"],
        description: "GetManifest probe (cached 2 s); never an error: `ok:false` with the reason when the runtime does not answer.",
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            runtimeKind: Type.String(),
            detail: Type.String(),
            manifest: Type.Optional(Type.Object({ agentId: Type.String(), supportedModes: Type.Array(Type.String()) })),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => runtime.probe(),
  );

  app.get(
    "/runtime/policies",
    {
      config: read,
      schema: {
        tags: ["runtime"],
        querystring: Type.Object({ mode: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(PolicySchema), ...errorResponses(400, 401, 403, 502, 503, 504) },
      },
    },
    async (request) => (await call("ListPolicies", (options) => runtime.client.listPolicies({ mode: request.query.mode ?? "" }, options))).descriptors.map(toApiPolicy),
  );

  app.get(
    "/runtime/policies/:policyId",
    { config: read, schema: { tags: ["runtime"], params: PolicyIdParams, response: { 200: PolicySchema, ...errorResponses(400, 401, 403, 404, 502, 503, 504) } } },
    async (request) => {
      const { policyDescriptor } = await call("GetPolicy", (options) => runtime.client.getPolicy({ policyId: request.params.policyId }, options));
      if (!policyDescriptor) throw new HttpError(404, "POLICY_NOT_FOUND", `policy ${request.params.policyId} not found`);
      return toApiPolicy(policyDescriptor);
    },
  );

  app.post(
    "/runtime/policies",
    {
      config: admin,
      schema: {
        tags: ["runtime"],
        description: "RegisterPolicy. The runtime validates the rules; a definition it refuses is 400 `INVALID_POLICY_DEFINITION` with its reason.",
        body: Type.Object(
          {
            policyId: Type.String({ minLength: 1, maxLength: 256 }),
            mode: Type.String({ minLength: 1, maxLength: 256 }),
            description: Type.String({ maxLength: 4096, default: "" }),
            rules: Type.Record(Type.String(), Type.Unknown()),
            schemaVersion: Type.Integer({ minimum: 1, default: 1 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: RegistryOutcome, ...errorResponses(400, 401, 403, 409, 502, 503, 504) },
      },
    },
    async (request, reply) => {
      const { policyId, mode, description, rules, schemaVersion } = request.body;
      if (policyId === DEFAULT_POLICY_ID) throw HttpError.validation([{ path: "body/policyId", message: `${DEFAULT_POLICY_ID} is the runtime's built-in policy` }]);
      // The registry answers ok:false for a taken id too; tell that case apart as a conflict.
      if (await exists(policyId)) throw new HttpError(409, "POLICY_ALREADY_EXISTS", `policy ${policyId} is already registered`);
      const outcome = await call("RegisterPolicy", (options) =>
        runtime.client.registerPolicy({ policyDescriptor: { policyId, mode, description, rules: JSON.stringify(rules), schemaVersion, registeredAtUnixMs: 0n } }, options),
      );
      if (!outcome.ok) throw new HttpError(400, "INVALID_POLICY_DEFINITION", `runtime refused the policy: ${outcome.error}`, { ok: false, error: outcome.error });
      return reply.status(201).send({ ok: true });
    },
  );

  app.delete(
    "/runtime/policies/:policyId",
    { config: admin, schema: { tags: ["runtime"], params: PolicyIdParams, response: { 200: RegistryOutcome, ...errorResponses(400, 401, 403, 404, 409, 502, 503, 504) } } },
    async (request) => {
      const { policyId } = request.params;
      if (policyId === DEFAULT_POLICY_ID) throw new HttpError(409, "CONFLICT", `${DEFAULT_POLICY_ID} is the runtime's built-in policy and cannot be removed`);
      const outcome = await call("UnregisterPolicy", (options) => runtime.client.unregisterPolicy({ policyId }, options));
      if (!outcome.ok) {
        // The registry answers ok:false for an unknown id rather than NOT_FOUND.
        if (!(await exists(policyId))) throw new HttpError(404, "POLICY_NOT_FOUND", `policy ${policyId} not found`);
        throw new HttpError(409, "CONFLICT", `runtime refused to unregister ${policyId}: ${outcome.error}`, { ok: false, error: outcome.error });
      }
      return { ok: true };
    },
  );
};
