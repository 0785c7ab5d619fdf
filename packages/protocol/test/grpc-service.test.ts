import { fileURLToPath } from "node:url";
import { Server, ServerCredentials, credentials, status, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MACPRuntimeServiceClient, MACPRuntimeServiceService, type MACPRuntimeServiceServer } from "../src/grpc.js";
import { InitializeRequest, InitializeResponse } from "../src/index.js";
import { parseProtoTree } from "./support/proto-text.js";

const protoDir = fileURLToPath(new URL("../../../proto", import.meta.url));
const rpcs = parseProtoTree(protoDir).flatMap((file) => file.rpcs);

function methodKey(rpcName: string): string {
  return rpcName.charAt(0).toLowerCase() + rpcName.slice(1);
}

describe("@macp/protocol/grpc service definition", () => {
  it("binds every RPC of proto/macp/v1/core.proto with its path and streaming kinds", () => {
    expect(rpcs).toHaveLength(24);
    const definition = MACPRuntimeServiceService as unknown as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    expect(Object.keys(definition).sort()).toEqual(rpcs.map((rpc) => methodKey(rpc.name)).sort());
    for (const rpc of rpcs) {
      const method = definition[methodKey(rpc.name)];
      expect({ path: method?.path, requestStream: method?.requestStream, responseStream: method?.responseStream }).toEqual({
        path: `/macp.v1.MACPRuntimeService/${rpc.name}`,
        requestStream: rpc.clientStreaming,
        responseStream: rpc.serverStreaming,
      });
    }
  });

  it("serializes with the generated message codecs", () => {
    const request = InitializeRequest.fromPartial({ supportedProtocolVersions: ["1.0"], clientInfo: { name: "test" } });
    const bytes = MACPRuntimeServiceService.initialize.requestSerialize(request);
    expect(Buffer.from(InitializeRequest.encode(request).finish()).equals(bytes)).toBe(true);
    expect(MACPRuntimeServiceService.initialize.requestDeserialize(bytes)).toEqual(request);
  });
});

describe("@macp/protocol/grpc client and server", () => {
  const server = new Server();
  let client: MACPRuntimeServiceClient;

  beforeAll(async () => {
    const implementation: Partial<MACPRuntimeServiceServer> = {
      initialize: (call, callback) => {
        callback(null, InitializeResponse.fromPartial({ selectedProtocolVersion: call.request.supportedProtocolVersions[0] ?? "" }));
      },
    };
    server.addService(MACPRuntimeServiceService, implementation as UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    client = new MACPRuntimeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it("answers a unary call through the generated client", async () => {
    const response = await new Promise<InitializeResponse>((resolve, reject) =>
      client.initialize(InitializeRequest.fromPartial({ supportedProtocolVersions: ["1.0"] }), (error, value) =>
        value === undefined ? reject(error) : resolve(value),
      ),
    );
    expect(response.selectedProtocolVersion).toBe("1.0");
  });

  it("answers UNIMPLEMENTED for an RPC the server left out", async () => {
    const error = await new Promise<ServiceError | null>((resolve) =>
      client.getManifest({ agentId: "" }, (failure) => resolve(failure)),
    );
    expect(error?.code).toBe(status.UNIMPLEMENTED);
  });
});
