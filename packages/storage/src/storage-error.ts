import { MacpError } from "@macp/protocol";

/** The error every backend surfaces for a storage failure (`INTERNAL_ERROR` on the wire). */
export function storageFailed(message: string, cause?: unknown): MacpError {
  if (cause instanceof MacpError) return cause;
  const reason = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new MacpError("StorageFailed", `${message}${reason}`);
}

/** Runs `operation`, reporting any failure as `StorageFailed` prefixed with `message`. */
export async function withStorageErrors<T>(message: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storageFailed(message, error);
  }
}
