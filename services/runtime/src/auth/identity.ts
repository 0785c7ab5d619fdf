/**
 * Who a request speaks for and what it may do (protocol.md §5.4). Every resolver in the chain
 * produces one of these; the kernel and the gRPC layer only ever see this shape.
 */
export interface Identity {
  /** Authenticated sender; overwrites `Envelope.sender`. */
  readonly sender: string;
  /** Modes this identity may send in; `null` means unrestricted. An empty set forbids every Send. */
  readonly allowedModes: ReadonlySet<string> | null;
  /** Whether `SessionStart` is allowed at all. */
  readonly canStartSessions: boolean;
  /** Cap on OPEN, unexpired sessions this identity initiated; `null` means unlimited. */
  readonly maxOpenSessions: number | null;
  /** Gates the extension-mode and policy registry mutators. */
  readonly canManageModeRegistry: boolean;
  /** Read access to any session (GetSession, passive subscribe); grants nothing for writes. */
  readonly isObserver: boolean;
}

/** The identity of the dev fallback (§5.3): the credential itself names the sender, with full rights. */
export function devIdentity(sender: string): Identity {
  return {
    sender,
    allowedModes: null,
    canStartSessions: true,
    maxOpenSessions: null,
    canManageModeRegistry: true,
    isObserver: false,
  };
}
