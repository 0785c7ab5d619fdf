import { uuidV5 } from "@macp/events";
import { decodePayload, encodePayloadJson, isValidSessionId, payloadTypeName } from "@macp/protocol";
import type { FieldIssue } from "../http/errors.js";
import type { PayloadEnvelope, RunRequest } from "./request-schema.js";

/** Namespace of the message ids the control plane derives from a run id (retries are duplicates). */
const MESSAGE_ID_NAMESPACE = "6a0f5a40-1f55-5b8e-9c1e-6d7c2f3b9e11";

/** One kickoff message, encoded. */
export interface PlannedMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly kind: string;
  readonly messageType: string;
  readonly payload: Uint8Array;
  readonly messageId: string;
}

/** What the control plane will do for a validated request. */
export interface RunPlan {
  /** `launch`: the control plane sends SessionStart and kickoff; `observe`: the agents do. */
  readonly kind: "launch" | "observe";
  readonly sessionId: string;
  readonly modeName: string;
  readonly modeVersion: string;
  readonly configurationVersion: string;
  readonly policyVersion: string;
  readonly ttlMs: number;
  /** Runtime sender ids of the declared participants (transport identity when given). */
  readonly participants: readonly string[];
  readonly initiator: string | undefined;
  readonly intent: string;
  readonly contextId: string;
  readonly roots: readonly { uri: string; name: string }[];
  readonly extensions: Readonly<Record<string, Uint8Array>>;
  readonly kickoff: readonly PlannedMessage[];
  readonly startMessageId: string;
}

/** What validation needs to know about its environment. */
export interface PlanEnvironment {
  readonly runtimeKinds: readonly string[];
  /** Modes the runtime supports; `undefined` when the runtime could not be asked. */
  readonly supportedModes: readonly string[] | undefined;
  /** Whether the control plane holds a runtime credential for `sender`. */
  readonly canSendAs: (sender: string) => boolean;
  /** Whether the control plane can read a session with these participants (observer token or dev identity). */
  readonly canRead: (participants: readonly string[]) => boolean;
}

/** Outcome of validating a request: issues with field paths, or a plan. */
export type PlanResult = { readonly ok: false; readonly issues: FieldIssue[] } | { readonly ok: true; readonly plan: RunPlan };

/**
 * Validates everything [A] deferred: runtime kind, mode, session id, participant
 * uniqueness, initiator and kickoff senders (declared and with a credential), and every payload
 * (encoded now, so a bad payload is a 400 and never a failed run).
 */
export function planRun(request: RunRequest, runId: string, sessionId: string, env: PlanEnvironment): PlanResult {
  const issues: FieldIssue[] = [];
  const issue = (path: string, message: string): void => {
    issues.push({ path: `body${path}`, message });
  };
  const { session } = request;
  const kickoff = request.kickoff ?? [];
  const launch = kickoff.length > 0 || session.initiatorParticipantId !== undefined;

  if (request.mode === "replay") issue("/mode", "replay runs are not created here: use POST /runs/:id/replay");
  const kind = request.runtime?.kind;
  if (kind !== undefined && !env.runtimeKinds.includes(kind)) issue("/runtime/kind", `unknown runtime kind "${kind}" (known: ${env.runtimeKinds.join(", ")})`);
  if (session.sessionId !== undefined && !isValidSessionId(session.sessionId)) issue("/session/sessionId", "must be a UUID v4/v7 or a base64url token of at least 22 characters");
  if (env.supportedModes !== undefined && !env.supportedModes.includes(session.modeName)) {
    issue("/session/modeName", `the runtime does not support mode "${session.modeName}" (supported: ${env.supportedModes.join(", ")})`);
  }

  const runtimeIdOf = new Map<string, string>();
  session.participants.forEach((participant, index) => {
    if (runtimeIdOf.has(participant.id)) issue(`/session/participants/${index}/id`, `participant "${participant.id}" is declared twice`);
    runtimeIdOf.set(participant.id, participant.transportIdentity ?? participant.id);
    if (participant.transportIdentity !== undefined) runtimeIdOf.set(participant.transportIdentity, participant.transportIdentity);
  });
  const participants = [...new Set(session.participants.map((participant) => participant.transportIdentity ?? participant.id))];

  if (!env.canRead(participants)) issue("/session/participants", "the control plane holds no runtime credential that can read this session (RUNTIME_BEARER_TOKEN)");

  let initiator: string | undefined;
  if (launch) {
    const explicit = session.initiatorParticipantId;
    const first = session.participants[0];
    const [candidate, path] =
      explicit !== undefined
        ? [explicit, "/session/initiatorParticipantId"]
        : kickoff[0] !== undefined
          ? [kickoff[0].from, "/kickoff/0/from"]
          : request.execution?.requester?.actorId !== undefined
            ? [request.execution.requester.actorId, "/execution/requester/actorId"]
            : [first?.transportIdentity ?? first?.id ?? "", "/session/participants/0/id"];
    initiator = runtimeIdOf.get(candidate) ?? candidate;
    if (explicit === undefined && !runtimeIdOf.has(candidate)) issue(path, `initiator "${candidate}" is not a declared participant`);
    if (!env.canSendAs(initiator)) issue(path, `no runtime credential for initiator "${initiator}" (RUNTIME_SENDER_TOKENS_JSON)`);
  } else {
    if (session.roots !== undefined) issue("/session/roots", "only allowed when the control plane starts the session (kickoff or initiatorParticipantId)");
    if (session.context !== undefined || session.contextEnvelope !== undefined) {
      issue(session.context !== undefined ? "/session/context" : "/session/contextEnvelope", "only allowed when the control plane starts the session (kickoff or initiatorParticipantId)");
    }
  }

  const planned: PlannedMessage[] = [];
  kickoff.forEach((message, index) => {
    const base = `/kickoff/${index}`;
    const sender = runtimeIdOf.get(message.from);
    if (sender === undefined) issue(`${base}/from`, `sender "${message.from}" is not a declared participant`);
    else if (!env.canSendAs(sender)) issue(`${base}/from`, `no runtime credential for sender "${sender}" (RUNTIME_SENDER_TOKENS_JSON)`);
    (message.to ?? []).forEach((to, toIndex) => {
      if (!runtimeIdOf.has(to)) issue(`${base}/to/${toIndex}`, `recipient "${to}" is not a declared participant`);
    });
    if (message.messageType === "SessionStart") issue(`${base}/messageType`, "SessionStart is sent by the control plane itself");
    const payload =
      message.payloadEnvelope !== undefined
        ? encodeEnvelope(session.modeName, message.messageType, message.payloadEnvelope, `${base}/payloadEnvelope`, issue)
        : encodeJson(session.modeName, message.messageType, message.payload ?? {}, `${base}/payload`, issue);
    planned.push({
      from: sender ?? message.from,
      to: (message.to ?? []).map((to) => runtimeIdOf.get(to) ?? to),
      kind: message.kind ?? "request",
      messageType: message.messageType,
      payload: payload ?? new Uint8Array(),
      messageId: uuidV5(`${runId}:kickoff:${index}`, MESSAGE_ID_NAMESPACE),
    });
  });

  const extensions: Record<string, Uint8Array> = {};
  if (launch && session.contextEnvelope !== undefined) {
    const bytes = encodeEnvelope(undefined, undefined, session.contextEnvelope, "/session/contextEnvelope", issue);
    if (bytes) extensions.context = bytes;
  } else if (launch && session.context !== undefined) {
    extensions.context = new TextEncoder().encode(JSON.stringify(session.context));
  }

  if (issues.length > 0) return { ok: false, issues };
  const metadata = session.metadata ?? {};
  return {
    ok: true,
    plan: {
      kind: launch ? "launch" : "observe",
      sessionId,
      modeName: session.modeName,
      modeVersion: session.modeVersion,
      configurationVersion: session.configurationVersion,
      policyVersion: session.policyVersion ?? "",
      ttlMs: session.ttlMs,
      participants,
      initiator,
      intent: typeof metadata.intent === "string" ? metadata.intent : "",
      contextId: session.contextId ?? "",
      roots: (session.roots ?? []).map((root) => ({ uri: root.uri, name: root.name ?? "" })),
      extensions,
      kickoff: planned,
      startMessageId: uuidV5(`${runId}:session-start`, MESSAGE_ID_NAMESPACE),
    },
  };
}

type Report = (path: string, message: string) => void;

/** JSON for a typed (mode, message type) becomes its protobuf; untyped pairs carry UTF-8 JSON. */
function encodeJson(mode: string, messageType: string, json: Record<string, unknown>, path: string, issue: Report): Uint8Array | undefined {
  if (payloadTypeName(mode, messageType) === undefined) return new TextEncoder().encode(JSON.stringify(json));
  try {
    return encodePayloadJson(mode, messageType, json);
  } catch (error) {
    issue(path, `cannot encode ${payloadTypeName(mode, messageType)}: ${(error as Error).message}`);
    return undefined;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function encodeEnvelope(mode: string | undefined, messageType: string | undefined, envelope: PayloadEnvelope, path: string, issue: Report): Uint8Array | undefined {
  const typed = mode !== undefined && messageType !== undefined ? payloadTypeName(mode, messageType) : undefined;
  const given = (["json", "text", "base64", "proto"] as const).filter((field) => envelope[field] !== undefined);
  const stray = given.filter((field) => field !== envelope.encoding);
  if (stray.length > 0) {
    issue(`${path}/${stray[0]}`, `does not match encoding "${envelope.encoding}"`);
    return undefined;
  }
  let bytes: Uint8Array;
  switch (envelope.encoding) {
    case "json":
      if (mode !== undefined && messageType !== undefined) return encodeJson(mode, messageType, envelope.json ?? {}, `${path}/json`, issue);
      return new TextEncoder().encode(JSON.stringify(envelope.json ?? {}));
    case "text":
      bytes = new TextEncoder().encode(envelope.text ?? "");
      break;
    case "base64":
      if (!BASE64.test(envelope.base64 ?? "")) {
        issue(`${path}/base64`, "is not valid base64");
        return undefined;
      }
      bytes = new Uint8Array(Buffer.from(envelope.base64 ?? "", "base64"));
      break;
    case "proto": {
      if (envelope.proto === undefined) {
        issue(`${path}/proto`, 'is required with encoding "proto"');
        return undefined;
      }
      if (mode === undefined || messageType === undefined || typed === undefined) {
        issue(`${path}/proto/typeName`, "this message has no protobuf payload type");
        return undefined;
      }
      if (envelope.proto.typeName !== typed) {
        issue(`${path}/proto/typeName`, `${messageType} in ${mode} carries ${typed}, not ${envelope.proto.typeName}`);
        return undefined;
      }
      return encodeJson(mode, messageType, envelope.proto.value, `${path}/proto/value`, issue);
    }
  }
  if (typed !== undefined && mode !== undefined && messageType !== undefined) {
    try {
      decodePayload(mode, messageType, bytes);
    } catch (error) {
      issue(`${path}/${envelope.encoding}`, `is not a valid ${typed}: ${(error as Error).message}`);
      return undefined;
    }
  }
  return bytes;
}
