import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got. */
export interface ReceivedHook {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** When the request arrived (epoch ms). */
  readonly at: number;
}

/** A scripted status that never answers: the request hangs until the sender gives up or dies. */
export const NO_ANSWER = 0;

/** A local HTTP endpoint for webhook tests: answers each path with scripted statuses (then 200; {@link NO_ANSWER} hangs) and records every request. */
export class WebhookReceiver {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly received: ReceivedHook[],
    private readonly scripts: Map<string, number[]>,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const received: ReceivedHook[] = [];
    const scripts = new Map<string, number[]>();
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "/";
        received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
        const status = scripts.get(path)?.shift() ?? 200;
        if (status === NO_ANSWER) return;
        response.statusCode = status;
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, scripts);
  }

  /** The next requests to `path` get these statuses, in order. */
  respond(path: string, ...statuses: number[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...statuses]);
  }

  to(path: string): ReceivedHook[] {
    return this.received.filter((hook) => hook.path === path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
