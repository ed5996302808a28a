import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../src/shared-kernel/bounded-cache.js";

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("BoundedCache", () => {
  it("evicts the least recently used entry, not the oldest inserted, when the entry bound is reached", () => {
    const cache = new BoundedCache<string, number>({ name: "t", maxEntries: 2 });
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now more recent than b
    cache.set("c", 3);
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.peek("a")).toBe(1);
    expect(cache.peek("c")).toBe(3);
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
  });

  it("keeps the total weight under the byte bound, evicting least recently used first, and refuses an entry heavier than the bound", () => {
    const cache = new BoundedCache<string, string>({ name: "t", maxEntries: 100, maxBytes: 10, sizeOf: (text) => text.length });
    cache.set("a", "xxxx");
    cache.set("b", "yyyy");
    cache.get("a");
    cache.set("c", "zzzz"); // 12 > 10: b goes
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 8, evictions: 1 });
    cache.set("huge", "x".repeat(11));
    expect(cache.peek("huge")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 8 });
  });

  it("forgets an entry once it is older than the cache's TTL or the shorter one given to set", () => {
    const clock = manualClock();
    const cache = new BoundedCache<string, number>({ name: "t", maxEntries: 10, ttlMs: 100, now: clock.now });
    cache.set("long", 1);
    cache.set("short", 2, 10);
    clock.advance(10);
    expect(cache.get("short")).toBe(2);
    clock.advance(1);
    expect(cache.get("short")).toBeUndefined();
    expect(cache.get("long")).toBe(1);
    clock.advance(90);
    expect(cache.get("long")).toBeUndefined();
    cache.set("none", 3, 0);
    expect(cache.peek("none")).toBeUndefined();
  });

  it("counts hits and misses, and an entry `usable` refuses as a miss that leaves it in place", () => {
    const cache = new BoundedCache<string, { revision: number }>({ name: "decisions", maxEntries: 10 });
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", { revision: 1 });
    expect(cache.get("k", (entry) => entry.revision === 1)).toEqual({ revision: 1 });
    expect(cache.get("k", (entry) => entry.revision === 2)).toBeUndefined();
    expect(cache.peek("k")).toEqual({ revision: 1 });
    expect(cache.stats()).toEqual({ name: "decisions", hits: 1, misses: 2, evictions: 0, entries: 1, bytes: 0 });
  });

  it("does not count deletions, replacements or expiries as evictions", () => {
    const clock = manualClock();
    const cache = new BoundedCache<string, number>({ name: "t", maxEntries: 10, ttlMs: 5, now: clock.now });
    cache.set("a", 1);
    cache.set("a", 2);
    cache.set("b", 1);
    cache.delete("b");
    cache.set("c", 1);
    cache.deleteWhere((value) => value === 2);
    clock.advance(6);
    expect(cache.get("c")).toBeUndefined();
    cache.set("d", 1);
    cache.clear();
    expect(cache.stats()).toMatchObject({ evictions: 0, entries: 0 });
  });
});
