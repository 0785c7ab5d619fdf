import type { RegistryKind } from "@macp/core";

/*
 * <dir>/wal/<segment>.wal                shared write-ahead log segments (all sessions' appends)
 * <dir>/snapshot-log/<segment>.snaps     snapshot records of every session, compacted
 * <dir>/registries/<kind>.reg            registry documents
 * <dir>/index/checkpoint.idx             the index of both logs up to a point, so open scans only
 *                                        what was written after it
 * <dir>/snapshots/<name>.snap            one file per session, written by earlier versions;
 *                                        imported into the snapshot log at open, then removed
 */

/** Sub-directory of the log segments. */
export const WAL_DIR = "wal";
/** Sub-directory of the snapshot log segments. */
export const SNAPSHOT_LOG_DIR = "snapshot-log";
/** Sub-directory of the per-session snapshot files of earlier versions. */
export const LEGACY_SNAPSHOT_DIR = "snapshots";
/** Sub-directory of the registry files. */
export const REGISTRY_DIR = "registries";
/** Sub-directory of the index checkpoint. */
export const INDEX_DIR = "index";
/** File name of the index checkpoint. */
export const CHECKPOINT_FILE = "checkpoint.idx";

const SEGMENT_PATTERN = /^(\d{12})(\.wal|\.snaps)$/;
/** Suffix of write-ahead log segments. */
export const WAL_SUFFIX = ".wal";
/** Suffix of snapshot log segments. */
export const SNAPSHOT_LOG_SUFFIX = ".snaps";
const LEGACY_SNAPSHOT_SUFFIX = ".snap";

/** File name of segment `segment` of a log with `suffix`; zero-padded so names sort by number. */
export function segmentFileName(segment: number, suffix: string): string {
  return `${String(segment).padStart(12, "0")}${suffix}`;
}

/** The segment number of a file name of a log with `suffix`, or undefined for other names. */
export function parseSegmentFileName(name: string, suffix: string): number | undefined {
  const match = SEGMENT_PATTERN.exec(name);
  return match?.[1] === undefined || match[2] !== suffix ? undefined : Number(match[1]);
}

/** Whether `name` is a per-session snapshot file of an earlier version (`<hex id>.snap` or `h-<sha256>.snap`). */
export function isLegacySnapshotFileName(name: string): boolean {
  return name.endsWith(LEGACY_SNAPSHOT_SUFFIX);
}

/** File name of a registry document. */
export function registryFileName(kind: RegistryKind): string {
  return `${kind}.reg`;
}
