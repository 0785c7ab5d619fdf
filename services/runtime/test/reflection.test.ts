import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { credentials, loadPackageDefinition } from "@grpc/grpc-js";
import type { Client, ClientDuplexStream, ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { MACPRuntimeServiceService } from "@macp/protocol/grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findProtoDir } from "../src/reflection.js";
import { startTestRuntime, type TestRuntime } from "./support/runtime-harness.js";

const RUNTIME_SERVICE = "macp.v1.MACPRuntimeService";

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type ReflectionClient = Client & {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;
};

/** A plain grpc-js client of the reflection service, built from the protos the reflection package ships. */
function reflectionClient(address: string, version: "v1" | "v1alpha"): ReflectionClient {
  const packageDir = dirname(createRequire(import.meta.url).resolve("@grpc/reflection"));
  const protoRoot = join(packageDir, "..", "proto");
  const loaded = loadPackageDefinition(
    loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [protoRoot], keepCase: true }),
  ) as unknown as { grpc: { reflection: Record<string, { ServerReflection: ServiceClientConstructor }> } };
  const Constructor = loaded.grpc.reflection[version]?.ServerReflection;
  if (Constructor === undefined) throw new Error(`no reflection ${version} client`);
  return new Constructor(address, credentials.createInsecure()) as unknown as ReflectionClient;
}

/** One request, one response, over the bidirectional reflection stream. */
async function ask(client: ReflectionClient, request: Record<string, unknown>): Promise<ReflectionResponse> {
  const call = client.ServerReflectionInfo();
  const response = new Promise<ReflectionResponse>((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
  call.write(request);
  call.end();
  return response;
}

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime.close());

describe.each(["v1", "v1alpha"] as const)("gRPC server reflection %s", (version) => {
  let client: ReflectionClient;
  beforeAll(() => {
    client = reflectionClient(runtime.address, version);
  });
  afterAll(() => client.close());

  it("lists the runtime service and the health service", async () => {
    const response = await ask(client, { list_services: "" });
    const names = (response.list_services_response?.service ?? []).map((service) => service.name);
    expect(names).toContain(RUNTIME_SERVICE);
    expect(names).toContain("grpc.health.v1.Health");
  });

  it("describes every RPC of macp.v1.MACPRuntimeService with its file and dependencies", async () => {
    const response = await ask(client, { file_containing_symbol: RUNTIME_SERVICE });
    const files: FileDescriptorProto[] = (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    // The reflection package regroups descriptors into one file per protobuf package.
    const service = files
      .flatMap((file) => file.service.map((candidate) => ({ name: `${file.package}.${candidate.name}`, candidate })))
      .find((entry) => entry.name === RUNTIME_SERVICE)?.candidate;
    const described = (service?.method ?? []).map((method) => method.name).sort();
    const served = Object.values(MACPRuntimeServiceService).map((method) => method.path.split("/").pop()).sort();
    expect(served).toHaveLength(24);
    expect(described).toEqual(served);
    // A tool can build requests only if every request and response type comes along.
    const types = new Set(files.flatMap((file) => file.messageType.map((message) => `.${file.package}.${message.name}`)));
    const missing = (service?.method ?? []).flatMap((method) => [method.inputType, method.outputType]).filter((type) => !types.has(type));
    expect(missing).toEqual([]);
    expect(types).toContain(".macp.v1.Envelope");
  });

  it("answers NOT_FOUND for an unknown symbol", async () => {
    const response = await ask(client, { file_containing_symbol: "macp.v1.NoSuchService" });
    expect(response.error_response?.error_code).toBe(5);
  });
});

describe("reflection proto lookup", () => {
  it("names the directories it searched when the protos are missing", () => {
    expect(() => findProtoDir(["/nonexistent/a", "/nonexistent/b"])).toThrow(/\/nonexistent\/a, \/nonexistent\/b/);
  });
});
