import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { PostgresStore } from "../src/index.js";
import { logEntry, recordingLogger } from "./log-entries.js";
import { DATABASE_URL, schemaAllocator } from "./postgres-fixture.js";
import { describeSessionStoreContract } from "./session-store-contract.js";

const schemas = schemaAllocator("pgstore");
afterAll(() => schemas.dropAll());

const open = (schema: string, exclusive = true): Promise<PostgresStore> =>
  PostgresStore.open({ connectionString: DATABASE_URL, schema, maxConnections: 4, logger: recordingLogger(), exclusive });

describeSessionStoreContract("PostgresStore", {
  durable: true,
  async createBackend() {
    const schema = schemas.next();
    return { open: () => open(schema), dispose: async () => undefined };
  },
});

describe("PostgresStore", () => {
  it("migrates idempotently: reopening an existing schema keeps its data", async () => {
    const schema = schemas.next();
    const first = await open(schema);
    await first.append("m", [logEntry("m", 1)]);
    await first.migrate();
    await first.close();
    const second = await open(schema);
    expect(await second.loadLog("m")).toEqual([logEntry("m", 1)]);
    await second.close();
  });

  it("refuses a second writer on the same schema while the first is open, and admits one after it closes", async () => {
    const schema = schemas.next();
    const first = await open(schema);
    await expect(open(schema)).rejects.toMatchObject({ code: "INTERNAL_ERROR", message: expect.stringContaining("in use by another runtime") });
    await first.close();
    const second = await open(schema);
    await second.close();
  });

  it("assigns gapless positions when two processes append to one session at once", async () => {
    const schema = schemas.next();
    const [a, b] = await Promise.all([open(schema, false), open(schema, false)]);
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 25; i++) {
      writes.push(a.append("shared", [logEntry("shared", i, { sender: "a" })]));
      // Distinct sequence numbers: the schema refuses two accepted messages at one.
      const seq = 100 + i;
      writes.push(b.append("shared", [logEntry("shared", seq, { sender: "b" }), logEntry("shared", seq, { sender: "b", kind: "internal" })]));
    }
    await Promise.all(writes);
    const log = await a.loadLog("shared");
    expect(log).toHaveLength(75);
    // Each process's own appends stay in its call order.
    expect(log.filter((entry) => entry.sender === "a").map((entry) => entry.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const fromB = log.filter((entry) => entry.sender === "b");
    expect(fromB.map((entry) => `${entry.seq}:${entry.kind}`)).toEqual(
      Array.from({ length: 25 }, (_, i) => [`${101 + i}:incoming`, `${101 + i}:internal`]).flat(),
    );
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const positions = await client.query<{ position: string }>(
      `select position from ${pg.escapeIdentifier(schema)}.log_entries where session_id = 'shared' order by position`,
    );
    const lengths = await client.query<{ log_length: string }>(`select log_length from ${pg.escapeIdentifier(schema)}.sessions`);
    await client.end();
    expect(positions.rows.map((row) => Number(row.position))).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    expect(lengths.rows.map((row) => Number(row.log_length))).toEqual([75]);
    await Promise.all([a.close(), b.close()]);
  });

  it("reports an unreachable server as StorageFailed", async () => {
    const error = await PostgresStore.open({ connectionString: "postgres://postgres@127.0.0.1:1/none", logger: recordingLogger() }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ name: "MacpError", code: "INTERNAL_ERROR" });
  });
});
