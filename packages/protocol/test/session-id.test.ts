import { describe, expect, it } from "vitest";
import { isValidSessionId } from "../src/index.js";

// protocol.md §1.3: lowercase canonical UUID v4/v7, else base64url of at least 22 characters;
// a 36-character id containing "-" is judged only as a UUID.
const accepted: Array<[string, string]> = [
  ["lowercase UUIDv4", "3f2b8c1e-9d4a-4f6b-8e2a-1c3d5e7f9a0b"],
  ["lowercase UUIDv7", "01890a5d-ac96-774b-bcce-b302099a8057"],
  ["UUIDv4 with non-RFC variant bits (variant is not checked)", "3f2b8c1e-9d4a-4f6b-0e2a-1c3d5e7f9a0b"],
  ["ULID (26 chars)", "01ARZ3NDEKTSV4RRFFQ69G5FAV"],
  ["22-char base64url", "AbCdEfGhIjKlMnOpQrStUv"],
  ["22-char base64url with - and _", "abc-def_ghi-jkl_mno-pq"],
  ["43-char base64url", "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"],
  ["36-char base64url without -", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"],
  ["35-char base64url with -", "ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefgh"],
  ["37-char base64url with -", "ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghij"],
  ["UUID hex without hyphens (32-char base64url)", "3f2b8c1e9d4a4f6b8e2a1c3d5e7f9a0b"],
];

const rejected: Array<[string, string]> = [
  ["empty", ""],
  ["s1", "s1"],
  ["decision-demo-1", "decision-demo-1"],
  ["21-char base64url", "AbCdEfGhIjKlMnOpQrStU"],
  ["36-char base64url containing - (judged only as a UUID)", "abcdefghijklmnopqrstuvwxyz-ABCDEFGHI"],
  ["uppercase UUIDv4", "3F2B8C1E-9D4A-4F6B-8E2A-1C3D5E7F9A0B"],
  ["mixed-case UUIDv4", "3f2b8c1e-9D4A-4f6b-8e2a-1c3d5e7f9a0b"],
  ["UUIDv1", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"],
  ["UUIDv3", "a3bb189e-8bf9-3888-9912-ace4e6543002"],
  ["UUIDv5", "886313e1-3b8a-5372-9b90-0c9aee199e5d"],
  ["UUIDv6", "1ec9414c-232a-6b00-b3c8-9e6bdeced846"],
  ["UUIDv8", "3f2b8c1e-9d4a-8f6b-8e2a-1c3d5e7f9a0b"],
  ["nil UUID", "00000000-0000-0000-0000-000000000000"],
  ["UUID with misplaced hyphens", "3f2b8c1e9-d4a-4f6b-8e2a-1c3d5e7f9a0b"],
  ["UUID with a non-hex digit", "3f2b8c1e-9d4a-4f6b-8e2a-1c3d5e7f9a0g"],
  ["UUID in braces", "{3f2b8c1e-9d4a-4f6b-8e2a-1c3d5e7f9a0b}"],
  ["UUID URN", "urn:uuid:3f2b8c1e-9d4a-4f6b-8e2a-1c3d5e7f9a0b"],
  ["id with .", "AbCdEfGhIjKlMnOpQrStUv.w"],
  ["id with +", "AbCdEfGhIjKlMnOpQrStUv+w"],
  ["id with /", "AbCdEfGhIjKlMnOpQrStUv/w"],
  ["id with = padding", "AbCdEfGhIjKlMnOpQrStUv=="],
  ["id with a space", "AbCdEfGhIjKlMnOpQrStUv w"],
  ["id with a trailing newline", "AbCdEfGhIjKlMnOpQrStUvw\n"],
  ["id with non-ASCII letters", "ÄbCdEfGhIjKlMnOpQrStUvW"],
];

describe("session id acceptance (protocol.md §1.3)", () => {
  it("uses ids of the lengths the table names", () => {
    const lengths = Object.fromEntries([...accepted, ...rejected].map(([name, id]) => [name, id.length]));
    expect(lengths).toMatchObject({
      "lowercase UUIDv4": 36,
      "ULID (26 chars)": 26,
      "22-char base64url": 22,
      "21-char base64url": 21,
      "36-char base64url containing - (judged only as a UUID)": 36,
      "36-char base64url without -": 36,
      "35-char base64url with -": 35,
      "37-char base64url with -": 37,
      "UUID with misplaced hyphens": 36,
    });
  });

  it.each(accepted)("accepts %s", (_, id) => {
    expect(isValidSessionId(id)).toBe(true);
  });

  it.each(rejected)("rejects %s", (_, id) => {
    expect(isValidSessionId(id)).toBe(false);
  });
});
