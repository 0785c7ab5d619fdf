import type { StreamFrame } from "./frames.js";

/** A client connection frames are written to (SSE response or WebSocket). */
export interface FrameSink {
  /** Writes a frame; false once the transport buffers more than its high-water mark. */
  send(frame: StreamFrame): boolean;
  /** Bytes accepted but not yet handed to the network. */
  readonly bufferedBytes: number;
  /** Resolves when the buffer drained below the high-water mark, or the connection closed. */
  drained(): Promise<void>;
  readonly closed: boolean;
  /** Ends the connection after what was written; `abort` drops what is still buffered. */
  end(abort?: boolean): void;
  /** Called once when the connection closes, whichever side closed it. */
  onClose(listener: () => void): void;
}
