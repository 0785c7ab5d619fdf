import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { LogIndex } from "../src/file/log-index.js";
import { SessionTable, seededMurmur3, type IdHash } from "../src/file/session-table.js";

/** Ids of every shape the table encodes differently: canonical UUIDs, near-UUIDs, any text. */
const sessionIds = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.uuid().map((id) => id.replaceAll("-", "")),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", "a", "s-1", "sessión-✓-🚀", "00000000-0000-0000-0000-00000000000g"),
);

/** Hashes that make distinct ids collide: only the table's byte comparison can tell them apart. */
const collidingHashes: Record<string, IdHash> = {
  constant: () => 0x1234_5678,
  "length only": (_bytes, length) => length,
  "first byte only": (bytes, length) => (length > 1 ? ((bytes[1] ?? 0) << 24) >>> 0 : 0),
  seeded: seededMurmur3(42),
};

describe("SessionTable", () => {
  for (const [name, hash] of Object.entries(collidingHashes)) {
    it(`matches a Map on every intern, find and idOf, with a ${name} hash (property)`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom("intern", "find"), sessionIds), { maxLength: 120 }), (operations) => {
          const table = new SessionTable({ hash });
          const oracle = new Map<string, number>();
          for (const [operation, id] of operations) {
            if (operation === "intern") {
              if (!oracle.has(id)) oracle.set(id, oracle.size);
              expect(table.intern(id)).toBe(oracle.get(id));
            } else {
              expect(table.find(id)).toBe(oracle.get(id) ?? -1);
            }
          }
          expect(table.size).toBe(oracle.size);
          expect([...table.ids()]).toEqual([...oracle.keys()]);
          for (const [id, number] of oracle) expect(table.idOf(number)).toBe(id);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("keeps every id exact across many shard growths and id blocks (300k sessions)", () => {
    const table = new SessionTable();
    const ids = Array.from({ length: 300_000 }, (_, i) => (i % 3 === 0 ? `plain-${i}` : randomUUID()));
    // Checked without expect() per id: 900k assertions would dominate the run.
    const wrong: string[] = [];
    for (const [i, id] of ids.entries()) if (table.intern(id) !== i) wrong.push(`intern ${id}`);
    for (const [i, id] of ids.entries()) {
      if (table.find(id) !== i) wrong.push(`find ${id}`);
      if (table.idOf(i) !== id) wrong.push(`idOf ${i}`);
    }
    expect(wrong).toEqual([]);
    expect(table.size).toBe(ids.length);
    expect(table.find("absent")).toBe(-1);
    expect(table.find(ids[1]?.toUpperCase() ?? "")).toBe(-1);
  });

  it("stores a canonical UUID in 17 bytes, 20 fewer than the same id in upper case", () => {
    const canonical = new SessionTable();
    const upper = new SessionTable();
    const empty = canonical.byteLength;
    // One more than a block of ids, so the full block is trimmed to its exact size.
    for (let i = 0; i <= 65_536; i++) {
      const id = randomUUID();
      canonical.intern(id);
      upper.intern(id.toUpperCase());
    }
    const perSession = (table: SessionTable): number => (table.byteLength - empty) / table.size;
    expect(perSession(upper) - perSession(canonical)).toBeCloseTo(20, 0);
  });
});

describe("LogIndex", () => {
  it("returns each session's entries and incoming entries after a seq like a Map of arrays (property)", () => {
    const entry = fc.record({
      session: fc.constantFrom("a", "b", randomUUID(), "sessión-✓"),
      segment: fc.integer({ min: 1, max: 5 }),
      offset: fc.integer({ min: 16, max: 2 ** 32 - 1 }),
      size: fc.integer({ min: 15, max: 2 ** 28 }),
      ordinal: fc.integer({ min: 0, max: 1000 }),
      kindCode: fc.integer({ min: 0, max: 2 }),
      seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (entries, afterSeq) => {
        const index = new LogIndex();
        const oracle = new Map<string, (typeof entries)[number][]>();
        for (const e of entries) {
          index.add(e.session, e.segment, e.offset, e.size, e.ordinal, e.kindCode, e.seq);
          oracle.set(e.session, [...(oracle.get(e.session) ?? []), e]);
        }
        expect(index.size).toBe(oracle.size);
        for (const session of ["a", "b", "never"]) {
          const stored = oracle.get(session) ?? [];
          const location = (e: (typeof entries)[number]) => ({ segment: e.segment, offset: e.offset, size: e.size, ordinal: e.ordinal });
          expect(index.all(session)).toEqual(stored.map(location));
          expect(index.incomingAfter(session, afterSeq)).toEqual(stored.filter((e) => e.kindCode === 0 && e.seq > afterSeq).map(location));
        }
      }),
      { numRuns: 200 },
    );
  });
});
