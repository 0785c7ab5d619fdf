export type { JsonValue, PolicyDefinition } from "./policy-definition.js";
