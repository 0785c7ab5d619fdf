import { natsUrl, uniqueName } from "@macp/test-support";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetStreamNames } from "../src/index.js";

/** The NATS server of this test run. */
export const NATS_URL = natsUrl();

/**
 * One connection per test file plus prefixes unique to the file; `deleteAll` removes every
 * stream and bucket made under them and closes the connection.
 */
export function jetStreamAllocator(file: string): { connection(): Promise<NatsConnection>; next(): string; deleteAll(): Promise<void> } {
  const prefixes: string[] = [];
  let nc: Promise<NatsConnection> | undefined;
  const connection = (): Promise<NatsConnection> => (nc ??= connect({ servers: NATS_URL, name: `test-${file}` }));
  return {
    connection,
    next() {
      const prefix = uniqueName(`t_${file}`);
      prefixes.push(prefix);
      return prefix;
    },
    async deleteAll() {
      const conn = await connection();
      const jsm = await jetstreamManager(conn);
      const kvm = new Kvm(conn);
      for (const prefix of prefixes.splice(0)) {
        const names = jetStreamNames(prefix);
        await jsm.streams.delete(names.logStream).catch(() => false);
        for (const bucket of [names.snapshotBucket, names.registryBucket, names.leaseBucket]) {
          await (await kvm.open(bucket)).destroy().catch(() => false);
        }
      }
      await conn.close();
    },
  };
}
