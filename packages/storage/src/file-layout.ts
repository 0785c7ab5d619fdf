import { createHash } from "node:crypto";
import type { RegistryKind } from "@macp/core";

/*
 * <dir>/wal/<segment>.wal        shared write-ahead log segments (all sessions' appends)
 * <dir>/snapshots/<name>.snap    latest snapshot of each session
 * <dir>/registries/<kind>.reg    registry documents
 */

/** Sub-directory of the log segments. */
export const WAL_DIR = "wal";
/** Sub-directory of the snapshot files. */
export const SNAPSHOT_DIR = "snapshots";
/** Sub-directory of the registry files. */
export const REGISTRY_DIR = "registries";

const SEGMENT_PATTERN = /^(\d{12})\.wal$/;
const SNAPSHOT_SUFFIX = ".snap";
const HASHED_PREFIX = "h-";
/** Longest hex-encoded id used as a file name; keeps names well under the usual 255-byte limit. */
const MAX_HEX_NAME = 200;

/** File name of log segment `segment`; zero-padded so names sort by number. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(12, "0")}.wal`;
}

/** The segment number of a segment file name, or undefined for other names. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * File name of a session's snapshot: the id's UTF-8 bytes in hex (any id is a safe, case-proof
 * file name and decodes back for `listSessions`), or a SHA-256 name for ids too long for that,
 * whose id is then read from the file.
 */
export function snapshotFileName(sessionId: string): string {
  const hex = Buffer.from(sessionId, "utf8").toString("hex");
  if (hex.length <= MAX_HEX_NAME) return hex + SNAPSHOT_SUFFIX;
  return HASHED_PREFIX + createHash("sha256").update(sessionId, "utf8").digest("hex") + SNAPSHOT_SUFFIX;
}

/** How a snapshot file name identifies its session. */
export type SnapshotName = { kind: "id"; sessionId: string } | { kind: "hashed" } | { kind: "other" };

/** Reads a session id back from a snapshot file name. */
export function parseSnapshotFileName(name: string): SnapshotName {
  if (!name.endsWith(SNAPSHOT_SUFFIX)) return { kind: "other" };
  const stem = name.slice(0, -SNAPSHOT_SUFFIX.length);
  if (stem.startsWith(HASHED_PREFIX)) return { kind: "hashed" };
  if (!/^(?:[0-9a-f]{2})*$/.test(stem)) return { kind: "other" };
  return { kind: "id", sessionId: Buffer.from(stem, "hex").toString("utf8") };
}

/** File name of a registry document. */
export function registryFileName(kind: RegistryKind): string {
  return `${kind}.reg`;
}
