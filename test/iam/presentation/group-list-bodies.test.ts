import { describe, expect, it } from "vitest";
import { GroupListBodies } from "../../../src/iam/presentation/group-list-bodies.js";

describe("GroupListBodies", () => {
  it("gives back a body only for the version it was kept with", () => {
    const bodies = new GroupListBodies(100);
    expect(bodies.versionOf("t1")).toBeNull();
    bodies.put("t1", 3, "[1]");
    expect(bodies.versionOf("t1")).toBe(3);
    expect(bodies.get("t1", 3)).toBe("[1]");
    expect(bodies.get("t1", 4)).toBeUndefined();
    expect(bodies.get("t2", 3)).toBeUndefined();
    bodies.put("t1", 4, "[2]");
    expect(bodies.get("t1", 3)).toBeUndefined();
    expect(bodies.get("t1", 4)).toBe("[2]");
  });

  it("stays within its size, dropping the least recently used tenants first", () => {
    const bodies = new GroupListBodies(10);
    bodies.put("a", 1, "aaaa");
    bodies.put("b", 1, "bbbb");
    expect(bodies.get("a", 1)).toBe("aaaa"); // a is now the most recently used
    bodies.put("c", 1, "cccc");
    expect(bodies.versionOf("b")).toBeNull();
    expect(bodies.get("a", 1)).toBe("aaaa");
    expect(bodies.get("c", 1)).toBe("cccc");
  });

  it("keeps nothing larger than its whole size, and forgets the tenant's older body", () => {
    const bodies = new GroupListBodies(10);
    bodies.put("a", 1, "aaaa");
    bodies.put("a", 2, "x".repeat(11));
    expect(bodies.versionOf("a")).toBeNull();
    bodies.put("b", 1, "b".repeat(10));
    expect(bodies.get("b", 1)).toHaveLength(10);
  });
});
