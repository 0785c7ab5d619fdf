import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { Ajv } from "ajv";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@macp/test-support";
import { DEPLOY_DIR, K8S_DIR, documentedVariables, readYaml, yamlFiles } from "./support/deploy-files.js";
import type { Manifest } from "./support/deploy-files.js";

// The Kubernetes schemas are those compiled into kubernetes-models (pinned in package.json); the
// compose schema is the compose-spec JSON Schema shipped by dclint (pinned likewise).
const MODELS: Record<string, { validate(): void } & (new (data: never) => { validate(): void })> = {
  "v1/ConfigMap": ConfigMap as never,
  "v1/Service": Service as never,
  "apps/v1/Deployment": Deployment as never,
  "apps/v1/StatefulSet": StatefulSet as never,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as never,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as never,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy as never,
};

const runtimeVariables = documentedVariables("services/runtime/README.md");
const controlPlaneVariables = documentedVariables("services/control-plane/README.md");
const workerVariables = documentedVariables("services/projection-worker/README.md");
/** The README whose table must list every variable a deploy file sets for a service. */
const variablesOf = (service: string): Set<string> => {
  if (service.includes("projection-worker")) return workerVariables;
  return service.includes("runtime") ? runtimeVariables : controlPlaneVariables;
};

const rel = (file: string) => relative(REPO_ROOT, file);

interface Kustomization {
  resources?: string[];
  patches?: { path: string }[];
}

function kustomization(dir: string): Kustomization {
  return readYaml(join(dir, "kustomization.yaml"))[0] as Kustomization;
}

/** The manifests a kustomization lists, following directory resources to their kustomization. */
function resources(dir: string): Manifest[] {
  return (kustomization(dir).resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    if (existsSync(join(path, "kustomization.yaml"))) return resources(path);
    return readYaml(path).map((object) => ({ file: path, object }) as Manifest);
  });
}

type Container = { name: string; env?: { name: string }[]; readinessProbe?: unknown; livenessProbe?: unknown; resources?: { requests?: object; limits?: object }; securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean } };
type PodTemplate = { spec: { securityContext?: { runAsNonRoot?: boolean }; containers: Container[] } };
const podTemplate = (manifest: Manifest) => (manifest.object as unknown as { spec: { template: PodTemplate } }).spec.template;

describe("deploy/docker-compose.yml", () => {
  const compose = readYaml(join(DEPLOY_DIR, "docker-compose.yml"))[0] as {
    services: Record<string, { environment?: Record<string, string>; healthcheck?: unknown; depends_on?: Record<string, { condition: string }>; volumes?: string[]; build?: { dockerfile: string } }>;
    volumes: Record<string, unknown>;
  };

  it("is valid against the compose-spec JSON Schema", () => {
    const dclint = dirname(createRequire(import.meta.url).resolve("dclint/package.json"));
    const schema = JSON.parse(readFileSync(join(dclint, "schemas/compose.schema.json"), "utf8"));
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it("runs Postgres, NATS with JetStream, the runtime, two control planes and two workers, each with a healthcheck, started in health order", () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(["control-plane-1", "control-plane-2", "nats", "postgres", "projection-worker-1", "projection-worker-2", "runtime"]);
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck, name).toBeDefined();
    expect((services.nats as unknown as { command: string[] }).command).toContain("-js");
    expect(services.runtime?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    for (const name of ["control-plane-1", "control-plane-2"]) {
      expect(services[name]?.depends_on).toEqual({ postgres: { condition: "service_healthy" }, nats: { condition: "service_healthy" }, runtime: { condition: "service_healthy" } });
      expect(services[name]?.environment?.NATS_URL).toBe("nats://nats:4222");
    }
    // The control plane migrates the tables the workers write.
    for (const name of ["projection-worker-1", "projection-worker-2"]) {
      expect(services[name]?.depends_on).toEqual({ postgres: { condition: "service_healthy" }, nats: { condition: "service_healthy" }, "control-plane-1": { condition: "service_healthy" } });
      expect(services[name]?.environment).toMatchObject({ NATS_URL: "nats://nats:4222", DATABASE_SCHEMA: services["control-plane-1"]?.environment?.DATABASE_SCHEMA, DATABASE_URL: services["control-plane-1"]?.environment?.DATABASE_URL });
    }
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) expect(Object.keys(compose.volumes)).toContain(volume.split(":")[0]);
      if (service.build) expect(existsSync(join(DEPLOY_DIR, "..", service.build.dockerfile)), service.build.dockerfile).toBe(true);
    }
  });

  it("sets only variables the services' READMEs document", () => {
    for (const name of ["runtime", "control-plane-1", "control-plane-2", "projection-worker-1", "projection-worker-2"]) {
      const documented = variablesOf(name);
      expect(Object.keys(compose.services[name]?.environment ?? {}).filter((variable) => !documented.has(variable)), name).toEqual([]);
    }
  });
});

describe("deploy/docker/*.Dockerfile", () => {
  for (const service of ["runtime", "control-plane", "projection-worker"]) {
    it(`${service}: multi-stage from a pnpm deploy of the workspace, non-root, with a HEALTHCHECK and documented ENV`, () => {
      const dockerfile = readFileSync(join(DEPLOY_DIR, "docker", `${service}.Dockerfile`), "utf8");
      expect(dockerfile.match(/^FROM /gm)?.length).toBe(2);
      expect(dockerfile).toContain(`--filter @macp/${service} deploy --prod`);
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(dockerfile).toMatch(/^HEALTHCHECK /m);
      const env = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? "";
      const names = [...env.matchAll(/([A-Z][A-Z0-9_]+)=/g)].map((match) => match[1] as string).filter((name) => name !== "NODE_ENV" || service === "runtime");
      expect(names.filter((name) => name !== "NODE_ENV" && !variablesOf(service).has(name))).toEqual([]);
    });
  }
});

describe("deploy/k8s (kustomize base and overlays)", () => {
  const base = resources(join(K8S_DIR, "base"));

  it("every manifest under deploy/k8s is valid against the Kubernetes schemas of kubernetes-models", () => {
    const overlayPatches = new Set(
      ["dev", "prod", "replicas"].flatMap((overlay) => (kustomization(join(K8S_DIR, "overlays", overlay)).patches ?? []).map((patch) => join(K8S_DIR, "overlays", overlay, patch.path))),
    );
    const files = yamlFiles(K8S_DIR).filter((file) => !file.endsWith("kustomization.yaml") && !overlayPatches.has(file));
    expect(files.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const file of files) {
      for (const object of readYaml(file) as Manifest["object"][]) {
        const Model = MODELS[`${object.apiVersion}/${object.kind}`];
        if (!Model) {
          failures.push(`${rel(file)}: no schema for ${object.apiVersion} ${object.kind}`);
          continue;
        }
        try {
          new Model(object as never).validate();
        } catch (error) {
          failures.push(`${rel(file)}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Every manifest file is part of the base, or a resource the replicas overlay adds.
    const replicaResources = resources(join(K8S_DIR, "overlays", "replicas")).filter((manifest) => !manifest.file.includes("/base/"));
    expect(files.map(rel).sort()).toEqual([...new Set([...base, ...replicaResources].map((manifest) => rel(manifest.file)))].sort());
  });

  it("an invalid manifest is caught (the validator is live)", () => {
    const deployment = structuredClone(base.find((manifest) => manifest.object.kind === "Deployment")?.object) as unknown as { spec: { replicas: unknown } };
    deployment.spec.replicas = "two";
    expect(() => new Deployment(deployment as never).validate()).toThrow();
  });

  it("overlays build on the base, and each patch targets a resource of the base", () => {
    for (const overlay of ["dev", "prod", "replicas"]) {
      const dir = join(K8S_DIR, "overlays", overlay);
      expect(kustomization(dir).resources?.[0]).toEqual("../../base");
      for (const patch of kustomization(dir).patches ?? []) {
        const [target] = readYaml(join(dir, patch.path)) as Manifest["object"][];
        expect(base.some((manifest) => manifest.object.kind === target?.kind && manifest.object.metadata.name === target?.metadata.name), `${overlay}/${patch.path}`).toBe(true);
      }
    }
  });

  it("workloads run non-root on a read-only root filesystem with probes, requests and limits; the control plane scales and has a PDB; every pod has a NetworkPolicy", () => {
    const workloads = base.filter((manifest) => ["Deployment", "StatefulSet"].includes(manifest.object.kind));
    expect(workloads.map((manifest) => manifest.object.metadata.name).sort()).toEqual(["macp-control-plane", "macp-projection-worker", "macp-runtime"]);
    for (const workload of workloads) {
      const template = podTemplate(workload);
      expect(template.spec.securityContext?.runAsNonRoot, workload.object.metadata.name).toBe(true);
      for (const container of template.spec.containers) {
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(container.readinessProbe, container.name).toBeDefined();
        expect(container.livenessProbe, container.name).toBeDefined();
        expect(container.resources?.requests, container.name).toBeDefined();
        expect(container.resources?.limits, container.name).toBeDefined();
      }
    }
    const deployments = workloads.filter((manifest) => manifest.object.kind === "Deployment");
    expect(deployments).toHaveLength(2);
    for (const deployment of deployments) {
      expect(podTemplate(deployment).spec.containers[0], deployment.object.metadata.name).toMatchObject({
        readinessProbe: { httpGet: { path: "/readyz" } },
        livenessProbe: { httpGet: { path: "/healthz" } },
      });
    }
    const kinds = base.map((manifest) => `${manifest.object.kind}/${manifest.object.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "HorizontalPodAutoscaler/macp-control-plane",
        "PodDisruptionBudget/macp-control-plane",
        "NetworkPolicy/macp-control-plane",
        "NetworkPolicy/macp-runtime",
        "HorizontalPodAutoscaler/macp-projection-worker",
        "PodDisruptionBudget/macp-projection-worker",
        "NetworkPolicy/macp-projection-worker",
      ]),
    );
  });

  it("NetworkPolicies let only what must talk talk: NATS from the control plane and the workers, nothing into a worker but metrics scrapes", () => {
    type Rule = { ports?: { port: number }[]; to?: unknown[]; from?: unknown[] };
    const policy = (name: string) => base.find((manifest) => manifest.object.kind === "NetworkPolicy" && manifest.object.metadata.name === name)?.object as unknown as { spec: { egress: Rule[]; ingress: Rule[] } };
    const egressPorts = (name: string) => policy(name).spec.egress.flatMap((rule) => (rule.ports ?? []).map((port) => port.port)).sort((a, b) => a - b);
    expect(egressPorts("macp-projection-worker")).toEqual([53, 53, 4222, 5432]);
    expect(egressPorts("macp-control-plane")).toEqual([53, 53, 4222, 5432, 50051]);
    expect(egressPorts("macp-runtime")).toEqual([53, 53, 5432]);
    expect(policy("macp-projection-worker").spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: [{ port: 3002, protocol: "TCP" }] }]);
  });

  it("sets only variables the services' READMEs document (ConfigMaps, container env, overlay patches)", () => {
    const undocumented: string[] = [];
    const check = (service: string, names: string[], where: string) => {
      for (const name of names) if (!variablesOf(service).has(name)) undocumented.push(`${where}: ${name}`);
    };
    const everything = yamlFiles(K8S_DIR)
      .filter((file) => !file.endsWith("kustomization.yaml"))
      .flatMap((file) => readYaml(file).map((object) => ({ file, object }) as Manifest));
    for (const { file, object } of everything) {
      const service = object.metadata.name;
      if (object.kind === "ConfigMap") check(service, Object.keys((object as unknown as { data: object }).data ?? {}), rel(file));
      // A `$patch: delete` has no pod template.
      if ((object.kind === "Deployment" || object.kind === "StatefulSet") && "spec" in object) {
        for (const container of podTemplate({ file, object }).spec.containers) check(service, (container.env ?? []).map((variable) => variable.name), rel(file));
      }
    }
    expect(undocumented).toEqual([]);
  });

  it("the replicas overlay runs the runtime as a Deployment of three on JetStream behind the one gRPC Service, with a PDB and egress only to DNS and NATS", () => {
    const dir = join(K8S_DIR, "overlays", "replicas");
    const patches = (kustomization(dir).patches ?? []).flatMap((patch) => readYaml(join(dir, patch.path)) as (Manifest["object"] & { $patch?: string; data?: Record<string, string>; spec?: { egress?: { ports?: { port: number }[] }[] } })[]);
    expect(patches.find((patch) => patch.kind === "StatefulSet")).toMatchObject({ $patch: "delete", metadata: { name: "macp-runtime" } });
    expect(patches.find((patch) => patch.kind === "ConfigMap")?.data).toMatchObject({ MACP_STORAGE_BACKEND: "jetstream", MACP_JETSTREAM_REPLICAS: "3" });
    expect(patches.find((patch) => patch.kind === "NetworkPolicy")?.spec?.egress?.flatMap((rule) => (rule.ports ?? []).map((port) => port.port))).toEqual([53, 53, 4222]);
    const added = resources(dir).filter((manifest) => !manifest.file.includes("/base/"));
    const deployment = added.find((manifest) => manifest.object.kind === "Deployment");
    const service = base.find((manifest) => manifest.object.kind === "Service" && manifest.object.metadata.name === "macp-runtime")?.object as unknown as { spec: { selector: Record<string, string> } };
    const spec = deployment?.object as unknown as { metadata: { name: string }; spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { volumes: { name: string }[] } } } };
    expect(spec.metadata.name).toBe("macp-runtime");
    expect(spec.spec.replicas).toBe(3);
    expect(spec.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(spec.spec.template.spec.volumes.map((volume) => volume.name)).not.toContain("data");
    expect(added.find((manifest) => manifest.object.kind === "PodDisruptionBudget")?.object).toMatchObject({ spec: { minAvailable: 2, selector: { matchLabels: service.spec.selector } } });
  });
});
