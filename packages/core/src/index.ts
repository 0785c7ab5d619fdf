export type { LogEntry, LogEntryKind, RegistryKind, SessionStore, StoredSnapshot } from "./session-store.js";
