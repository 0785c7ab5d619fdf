import { storageFailed } from "../storage-error.js";

/** Default prefix of the JetStream backend's stream, subjects and buckets. */
export const DEFAULT_JETSTREAM_PREFIX = "macp_runtime";

const PREFIX = /^[A-Za-z0-9_-]{1,64}$/;

/** Names of everything the JetStream backend keeps under one prefix. */
export interface JetStreamNames {
  /** Stream holding every session log; one subject per session. */
  readonly logStream: string;
  /** Wildcard subject of every session log. */
  readonly logSubjects: string;
  /** KV bucket of the latest snapshot per session. */
  readonly snapshotBucket: string;
  /** KV bucket of the policy and mode registries (watched by every replica). */
  readonly registryBucket: string;
  /** KV bucket of leases for work only one replica does at a time. */
  readonly leaseBucket: string;
  /** The subject of one session's log. */
  logSubject(sessionId: string): string;
  /** The snapshot bucket key of one session. */
  snapshotKey(sessionId: string): string;
  /** The session id a log subject stands for. */
  sessionOfSubject(subject: string): string;
  /** The session id a snapshot key stands for. */
  sessionOfKey(key: string): string;
}

/**
 * Session ids are any UTF-8 text, while subject tokens and KV keys allow only a few characters:
 * ids are stored base64url-encoded behind an `s` (so the empty id still makes a token).
 */
export function jetStreamNames(prefix: string): JetStreamNames {
  if (!PREFIX.test(prefix)) throw storageFailed(`invalid JetStream prefix "${prefix}": 1-64 of A-Z a-z 0-9 _ -`);
  const subjectHead = `${prefix}.log.`;
  const encode = (sessionId: string): string => `s${Buffer.from(sessionId, "utf8").toString("base64url")}`;
  const decode = (token: string): string => Buffer.from(token.slice(1), "base64url").toString("utf8");
  return {
    logStream: `${prefix}_log`,
    logSubjects: `${subjectHead}>`,
    snapshotBucket: `${prefix}_snapshots`,
    registryBucket: `${prefix}_registry`,
    leaseBucket: `${prefix}_leases`,
    logSubject: (sessionId) => `${subjectHead}${encode(sessionId)}`,
    snapshotKey: encode,
    sessionOfSubject: (subject) => decode(subject.slice(subjectHead.length)),
    sessionOfKey: decode,
  };
}
