import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";

/**
 * Where the MACP `.proto` files are: the build copies them into `dist/proto` so a deployed daemon
 * (which ships `dist` only) has them; a source checkout reads the repository's `proto/`.
 */
const PROTO_DIRS = [
  fileURLToPath(new URL("./proto/", import.meta.url)),
  fileURLToPath(new URL("../../../proto/", import.meta.url)),
];

/** The first directory holding the MACP service definition. */
export function findProtoDir(candidates: readonly string[] = PROTO_DIRS): string {
  const found = candidates.find((dir) => existsSync(join(dir, "macp", "v1", "core.proto")));
  if (found === undefined) {
    throw new Error(`gRPC reflection needs the MACP .proto files; none found in ${candidates.join(", ")}`);
  }
  return found;
}

function protoFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(root, path);
    return entry.name.endsWith(".proto") ? [relative(root, path).split(sep).join("/")] : [];
  });
}

/**
 * Registers the gRPC server reflection service (v1 and v1alpha) describing the MACP runtime
 * service, every mode's payload messages and the health service, so tools such as `grpcurl`
 * can list and call the runtime without a local copy of the protos.
 */
export function addReflection(server: Pick<Server, "addService">, protoDir: string = findProtoDir()): void {
  // grpc-health-check ships its proto as <root>/health/v1/health.proto.
  const healthRoot = resolve(dirname(healthProtoPath), "..", "..");
  const definition = loadSync([...protoFiles(protoDir), "health/v1/health.proto"], {
    includeDirs: [protoDir, healthRoot],
    keepCase: true,
  });
  new ReflectionService(definition).addToServer(server);
}
