/** The ULIDs the service issues: valid, distinct, increasing, and random in every character. */
import { describe, expect, it } from "vitest";
import { isUlid, newUlid } from "../../src/shared-kernel/ids.js";

describe("newUlid", () => {
  it("issues valid, distinct ULIDs in increasing order, however many per millisecond", () => {
    const ids = Array.from({ length: 20_000 }, () => newUlid());
    expect(ids.every(isUlid)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("draws the random part evenly from all 32 characters", () => {
    const counts = new Map<string, number>();
    // The first random character of a new millisecond is drawn fresh (later ones in the same
    // millisecond are increments); take ids a millisecond apart.
    const ids: string[] = [];
    const until = Date.now() + 400;
    let last = "";
    while (Date.now() < until || ids.length < 200) {
      const id = newUlid();
      if (id.slice(0, 10) !== last) ids.push(id);
      last = id.slice(0, 10);
    }
    for (const id of ids) for (const char of id.slice(10, 25)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const expected = (ids.length * 15) / 32;
    for (const count of counts.values()) expect(count).toBeGreaterThan(expected * 0.5);
  });
});
