import type { ProtoFile } from "./proto-text.js";
import * as core from "../../src/gen/macp/v1/core.js";
import * as envelope from "../../src/gen/macp/v1/envelope.js";
import * as policy from "../../src/gen/macp/v1/policy.js";
import * as decision from "../../src/gen/macp/modes/decision/v1/decision.js";
import * as handoff from "../../src/gen/macp/modes/handoff/v1/handoff.js";
import * as multiRound from "../../src/gen/macp/modes/multi_round/v1/multi_round.js";
import * as proposal from "../../src/gen/macp/modes/proposal/v1/proposal.js";
import * as quorum from "../../src/gen/macp/modes/quorum/v1/quorum.js";
import * as task from "../../src/gen/macp/modes/task/v1/task.js";

/** A generated message codec, loosely typed for table-driven tests. */
export interface AnyCodec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** Generated modules by proto file path. */
export const GENERATED_MODULES: Readonly<Record<string, Record<string, unknown>>> = {
  "macp/v1/envelope.proto": envelope,
  "macp/v1/core.proto": core,
  "macp/v1/policy.proto": policy,
  "macp/modes/decision/v1/decision.proto": decision,
  "macp/modes/proposal/v1/proposal.proto": proposal,
  "macp/modes/task/v1/task.proto": task,
  "macp/modes/handoff/v1/handoff.proto": handoff,
  "macp/modes/quorum/v1/quorum.proto": quorum,
  "macp/modes/multi_round/v1/multi_round.proto": multiRound,
};

/** True for a generated message codec object. */
export function isCodec(value: unknown): value is AnyCodec {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<AnyCodec>).encode === "function" &&
    typeof (value as Partial<AnyCodec>).decode === "function"
  );
}

/** The generated codecs a module exports, by export name (map-entry helpers included). */
export function codecsOf(module: Record<string, unknown>): Map<string, AnyCodec> {
  return new Map(Object.entries(module).filter((entry): entry is [string, AnyCodec] => isCodec(entry[1])));
}

/** One declared message with its generated codec. */
export interface GeneratedMessage {
  readonly fullName: string;
  readonly name: string;
  readonly pkg: string;
  readonly codec: AnyCodec;
}

/** Pairs every message declared in `files` with its generated codec; a missing one is an error. */
export function generatedMessages(files: readonly ProtoFile[]): GeneratedMessage[] {
  return files.flatMap((file) => {
    const module = GENERATED_MODULES[file.path];
    if (module === undefined) throw new Error(`no generated module registered for ${file.path}`);
    const codecs = codecsOf(module);
    return file.messages.map((message) => {
      const codec = codecs.get(message.name);
      if (codec === undefined) throw new Error(`${message.fullName} has no generated codec`);
      return { fullName: message.fullName, name: message.name, pkg: file.package, codec };
    });
  });
}
