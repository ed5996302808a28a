/**
 * The decision cache's rules, over a purpose-built authorization that answers from a set of grants
 * and counts what reaches it, and the real revision tracker: a decision is reused at the revision it
 * was computed at; after the revision moves, an "allowed" survives only grants (monotonic schema),
 * a denial never; a write through the cache forgets everything; the entries are bounded.
 */
import { describe, expect, it } from "vitest";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { CachedAuthorization } from "../../../src/platform/spicedb/cached-authorization.js";
import type {
  AuthorizationPort,
  Consistency,
  PermissionCheck,
  RelationshipUpdate,
} from "../../../src/shared-kernel/authorization/authorization-port.js";

/** Answers checks from `granted` (keys "resource-id:user-id") and records each call's consistency. */
class CountingAuthorization implements AuthorizationPort {
  readonly granted = new Set<string>();
  readonly consistencies: (Consistency | undefined)[] = [];
  calls = 0;

  private answer(check: PermissionCheck): boolean {
    return this.granted.has(`${check.resource.id}:${check.subject.id}`);
  }
  async check(check: PermissionCheck, consistency?: Consistency) {
    this.calls++;
    this.consistencies.push(consistency);
    return this.answer(check);
  }
  async checkBulk(checks: readonly PermissionCheck[], consistency?: Consistency) {
    this.calls++;
    this.consistencies.push(consistency);
    return checks.map((c) => this.answer(c));
  }
  async lookupResources() {
    this.calls++;
    return [...this.granted].map((key) => key.split(":")[0] as string);
  }
  async lookupSubjects() {
    this.calls++;
    return [];
  }
  async readRelationships() {
    return [];
  }
  async writeRelationships(_updates: readonly RelationshipUpdate[]) {
    return "token-w";
  }
  async deleteRelationships() {
    return "token-d";
  }
}

const on = (resource: string, user: string): PermissionCheck => ({
  resource: { type: "workspace", id: resource },
  permission: "view",
  subject: { type: "user", id: user },
});

function setUp(options: { monotonicSchema?: boolean; maxEntries?: number } = {}) {
  const inner = new CountingAuthorization();
  const tracker = new AuthzRevisionTracker();
  const cache = new CachedAuthorization(inner, tracker, { monotonicSchema: options.monotonicSchema ?? true, ...(options.maxEntries ? { maxEntries: options.maxEntries } : {}) });
  /** A drain applied a write: the revision moves (revoking: it deleted relationships). */
  const applied = (revision: number, revoking: boolean) =>
    tracker.observe({ revision, zedToken: `token-${revision}`, revokedRevision: revoking ? revision : tracker.current().revokedRevision });
  return { inner, tracker, cache, applied };
}

describe("CachedAuthorization", () => {
  it("answers a repeated check at the same revision from the cache", async () => {
    const { inner, cache } = setUp();
    inner.granted.add("w1:ada");
    expect(await cache.check(on("w1", "ada"))).toBe(true);
    expect(await cache.check(on("w1", "bob"))).toBe(false);
    expect(await cache.check(on("w1", "ada"))).toBe(true);
    expect(await cache.check(on("w1", "bob"))).toBe(false);
    expect(inner.calls).toBe(2);
  });

  it("keeps an allowance across revisions that only granted, and asks again for a denial", async () => {
    const { inner, cache, applied } = setUp();
    inner.granted.add("w1:ada");
    await cache.check(on("w1", "ada"));
    await cache.check(on("w1", "bob"));
    inner.granted.add("w1:bob");
    applied(1, false);
    expect(await cache.check(on("w1", "ada"))).toBe(true);
    expect(inner.calls).toBe(2); // grants cannot revoke
    expect(await cache.check(on("w1", "bob"))).toBe(true); // the denial was not reused
    expect(inner.calls).toBe(3);
  });

  it("asks again for an allowance after a revision that deleted relationships", async () => {
    const { inner, cache, applied } = setUp();
    inner.granted.add("w1:ada");
    await cache.check(on("w1", "ada"));
    inner.granted.delete("w1:ada");
    applied(1, true);
    expect(await cache.check(on("w1", "ada"))).toBe(false);
    expect(inner.calls).toBe(2);
  });

  it("reuses nothing across revisions when the schema is not monotonic", async () => {
    const { inner, cache, applied } = setUp({ monotonicSchema: false });
    inner.granted.add("w1:ada");
    await cache.check(on("w1", "ada"));
    applied(1, false);
    await cache.check(on("w1", "ada"));
    expect(inner.calls).toBe(2);
  });

  it("reuses lookups only at the revision they were computed at", async () => {
    const { inner, cache, applied } = setUp();
    inner.granted.add("w1:ada");
    const subject = { type: "user", id: "ada" };
    expect(await cache.lookupResources("workspace", "view", subject)).toEqual(["w1"]);
    expect(await cache.lookupResources("workspace", "view", subject)).toEqual(["w1"]);
    expect(inner.calls).toBe(1);
    inner.granted.add("w2:ada");
    applied(1, false);
    expect(await cache.lookupResources("workspace", "view", subject)).toEqual(["w1", "w2"]);
    expect(inner.calls).toBe(2);
  });

  it("forgets every decision after a write through it (which does not move the revision)", async () => {
    const { inner, cache } = setUp();
    inner.granted.add("w1:ada");
    await cache.check(on("w1", "ada"));
    inner.granted.delete("w1:ada");
    await cache.writeRelationships([]);
    expect(await cache.check(on("w1", "ada"))).toBe(false);
    await cache.check(on("w1", "ada"));
    await cache.deleteRelationships({ resourceType: "workspace" });
    await cache.check(on("w1", "ada"));
    expect(inner.calls).toBe(3);
  });

  it("serves checkBulk's known answers from the cache and asks only for the rest, in order", async () => {
    const { inner, cache } = setUp();
    inner.granted.add("w2:ada");
    await cache.check(on("w1", "ada"));
    expect(await cache.checkBulk([on("w1", "ada"), on("w2", "ada"), on("w1", "ada")])).toEqual([false, true, false]);
    expect(inner.calls).toBe(2);
    expect(await cache.checkBulk([on("w2", "ada"), on("w1", "ada")])).toEqual([true, false]);
    expect(inner.calls).toBe(2);
  });

  it("is bounded: past its entry limit the least recently used decision goes", async () => {
    const { inner, cache } = setUp({ maxEntries: 2 });
    await cache.check(on("w1", "ada"));
    await cache.check(on("w2", "ada"));
    await cache.check(on("w1", "ada")); // w1 used last
    await cache.check(on("w3", "ada")); // evicts w2
    expect(inner.calls).toBe(3);
    await cache.check(on("w1", "ada"));
    expect(inner.calls).toBe(3);
    await cache.check(on("w2", "ada"));
    expect(inner.calls).toBe(4);
  });

  it("asks SpiceDB for the freshness of the revision's ZedToken, and passes a stated consistency through uncached", async () => {
    const { inner, cache, applied } = setUp();
    await cache.check(on("w1", "ada"));
    applied(1, true);
    await cache.check(on("w1", "ada"));
    await cache.check(on("w1", "ada"), { kind: "full" });
    await cache.check(on("w1", "ada"), { kind: "full" });
    expect(inner.consistencies).toEqual([{ kind: "full" }, { kind: "atLeastAsFresh", token: "token-1" }, { kind: "full" }, { kind: "full" }]);
  });
});
