import type { FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { FrameSink } from "./frame-sink.js";
import { sseFrame, wsFrame } from "./frames.js";

/**
 * Takes over `reply` as a text/event-stream. Headers set by hooks (CORS, request id) are kept;
 * `X-Accel-Buffering: no` keeps proxies from holding frames back.
 */
export function sseSink(request: FastifyRequest, reply: FastifyReply): FrameSink {
  reply.hijack();
  const raw = reply.raw;
  const hooked = Object.fromEntries(Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined));
  raw.writeHead(200, {
    ...hooked,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
  });
  // A comment line flushes the headers at once, so clients see the stream open.
  raw.write(": stream open\n\n");
  const closed = (): boolean => raw.destroyed || raw.writableEnded;
  return {
    send: (frame) => (closed() ? true : raw.write(sseFrame(frame))),
    get bufferedBytes() {
      return raw.writableLength;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        if (closed() || !raw.writableNeedDrain) return resolve();
        const done = (): void => {
          raw.off("drain", done);
          raw.off("close", done);
          resolve();
        };
        raw.on("drain", done);
        raw.on("close", done);
      }),
    get closed() {
      return closed();
    },
    end: (abort = false) => {
      if (abort) raw.destroy();
      else if (!closed()) raw.end();
    },
    onClose: (listener) => {
      if (raw.destroyed) listener();
      else raw.once("close", listener);
    },
  };
}

/** WebSocket frames (JSON text), with the same flow control as SSE. */
export function webSocketSink(socket: WebSocket, highWaterBytes = 64 * 1024): FrameSink {
  const closed = (): boolean => socket.readyState !== socket.OPEN;
  return {
    send: (frame) => {
      if (closed()) return true;
      socket.send(wsFrame(frame));
      return socket.bufferedAmount < highWaterBytes;
    },
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        // ws emits no drain event: poll the buffered amount while the socket is open.
        const check = (): void => {
          if (closed() || socket.bufferedAmount < highWaterBytes) resolve();
          else setTimeout(check, 5);
        };
        check();
      }),
    get closed() {
      return closed();
    },
    end: (abort = false) => {
      if (abort) socket.terminate();
      else if (!closed()) socket.close(1000, "stream ended");
    },
    onClose: (listener) => {
      if (socket.readyState === socket.CLOSED) listener();
      else socket.once("close", listener);
    },
  };
}
