/**
 * Thrown by `SessionStore.append` of a store shared by several writers (runtime replicas) when
 * another writer appended to the session since this store last read or wrote its log: nothing
 * was stored. The caller's view of the session is stale; it reloads the log and judges the
 * message again, which then gets the answer a single writer would have given.
 */
export class StaleAppendError extends Error {
  constructor(readonly sessionId: string) {
    super(`session '${sessionId}' was appended to by another writer`);
    this.name = "StaleAppendError";
  }
}
