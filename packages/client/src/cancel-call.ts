/**
 * Cancels a grpc-js call once pending microtasks have run. grpc-js 1.14 mishandles a call
 * cancelled in the same tick it was started: the cancellation lands before the call's
 * transport-level child exists, the child then starts anyway, and with nobody reading it keeps
 * its HTTP/2 stream, and so the connection, open for good. One macrotask later the child exists
 * and is cancelled properly.
 */
export function cancelCall(call: { cancel(): void }): void {
  setImmediate(() => call.cancel());
}
