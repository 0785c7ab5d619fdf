import type { Logger } from "pino";
import type { Clock, Kernel } from "@macp/core";
import type { ModeRegistry } from "@macp/modes";
import type { PolicyRegistry } from "@macp/policy";
import type { Authenticator } from "./auth/index.js";
import type { EnvelopePipeline } from "./envelope-pipeline.js";
import type { RuntimeMetrics } from "./metrics.js";
import type { OpenStreams } from "./open-streams.js";

/** Everything the gRPC handlers share. */
export interface RuntimeContext {
  readonly kernel: Kernel;
  readonly modes: ModeRegistry;
  readonly policies: PolicyRegistry;
  readonly authenticator: Authenticator;
  readonly pipeline: EnvelopePipeline;
  readonly clock: Clock;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  /** Live envelopes a slow StreamSession subscriber may fall behind before it is cut off. */
  readonly streamBufferLimit: number;
  /** Server-stream messages queued for a slow watcher before its stream is ended. */
  readonly watchBufferLimit: number;
  /** Enders of every open stream, called at shutdown so streams end cleanly with status OK. */
  readonly openStreams: OpenStreams;
}
