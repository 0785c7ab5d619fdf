import { connect } from "node:net";

/** Whether something accepts TCP connections on `host:port` right now. */
export function listening(hostPort: string): Promise<boolean> {
  const url = new URL(hostPort.includes("://") ? hostPort : `tcp://${hostPort}`);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ""));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
