import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_OBJECT_ID_UTF8_BYTES,
  SPICEDB_MAX_OBJECT_ID_BYTES,
  fromSpiceDbObjectId,
  isStorableObjectId,
  toSpiceDbObjectId,
} from "../../src/shared-kernel/authorization/object-ids.js";

/** SpiceDB v1's rule for an object id (its proto validation), without the wildcard. */
const SPICEDB_OBJECT_ID = /^[a-zA-Z0-9/_|\-=+]{1,}$/;

describe("object ids in SpiceDB's alphabet", () => {
  it("keeps ULIDs and plain subjects as they are, so nothing stored before has to migrate", () => {
    for (const id of ["01JABCDEFGHJKMNPQRSTVWXYZ0", "alice", "user_42", "a-b=c+d/e"]) expect(toSpiceDbObjectId(id)).toBe(id);
  });

  it("encodes what SpiceDB refuses, and what could pass for an encoded id or the wildcard", () => {
    for (const id of ["john.doe@example.com", "f:idp:user", "*", "|abc", "a|b", "名前", ""]) {
      const stored = toSpiceDbObjectId(id);
      expect(stored.startsWith("|"), id).toBe(true);
      expect(stored, id).toMatch(SPICEDB_OBJECT_ID);
      expect(fromSpiceDbObjectId(stored), id).toBe(id);
    }
  });

  it("round-trips every string into SpiceDB's alphabet", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 255 }), (id) => {
        const stored = toSpiceDbObjectId(id);
        expect(stored).toMatch(SPICEDB_OBJECT_ID);
        expect(fromSpiceDbObjectId(stored)).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  it("never gives two ids the same stored form", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 40 }), (a, b) => {
        fc.pre(a !== b);
        expect(toSpiceDbObjectId(a)).not.toBe(toSpiceDbObjectId(b));
      }),
      { numRuns: 2000 },
    );
    // The pairs a generator is unlikely to hit: an id against the encoded form of another.
    const other = "x.y";
    expect(toSpiceDbObjectId(toSpiceDbObjectId(other))).not.toBe(toSpiceDbObjectId(other));
  });

  it("calls an id storable exactly when its stored form fits SpiceDB's 1024 bytes", () => {
    const fits = "é".repeat(383) + "a"; // 767 bytes
    expect(Buffer.byteLength(fits)).toBe(MAX_OBJECT_ID_UTF8_BYTES);
    expect(isStorableObjectId(fits)).toBe(true);
    expect(toSpiceDbObjectId(fits).length).toBeLessThanOrEqual(SPICEDB_MAX_OBJECT_ID_BYTES);
    const over = fits + "a";
    expect(isStorableObjectId(over)).toBe(false);
    expect(toSpiceDbObjectId(over).length).toBeGreaterThan(SPICEDB_MAX_OBJECT_ID_BYTES);
    expect(isStorableObjectId("")).toBe(false);
  });
});
