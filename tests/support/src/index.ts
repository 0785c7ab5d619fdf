/**
 * Test-only support shared by every suite of the repository: its copy of the MACP spec data and
 * the Postgres/NATS servers of the test run. Never imported by shipped code.
 */
export {
  CONFORMANCE_DIR,
  DIGESTS_DIR,
  PROTO_DIR,
  REPO_ROOT,
  SPEC_DIR,
  conformanceVectorFiles,
  readConformanceVector,
  readSpecDigest,
  readSpecJsonSchema,
  specJsonSchemaFiles,
} from "./spec-data.js";
export { databaseUrl, natsUrl, uniqueName } from "./test-servers.js";
