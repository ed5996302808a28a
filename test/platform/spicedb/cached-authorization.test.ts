/**
 * The decision cache's rules, on a real SpiceDB: what it may serve at which revision. The revision
 * is moved by hand here, as a drain would after writing to SpiceDB (relationship-sync.test.ts
 * covers the same rules through the outbox).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuthorizationPort, PermissionCheck, RelationshipUpdate } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { CachedAuthorization } from "../../../src/platform/spicedb/cached-authorization.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

let tenantCounter = 0;

describe("CachedAuthorization", () => {
  let spicedb: SpiceDbEngine;
  let tracker: AuthzRevisionTracker;
  let tenant: string;

  beforeAll(async () => {
    spicedb = await startTestSpiceDb();
  });
  afterAll(async () => {
    await spicedb?.close();
  });
  beforeEach(() => {
    tracker = new AuthzRevisionTracker();
    tenant = `cache-tenant-${++tenantCounter}`;
  });

  const viewTenant = (user: string): PermissionCheck => ({
    resource: { type: "tenant", id: tenant },
    permission: "view",
    subject: { type: "user", id: user },
  });
  const membership = (operation: "touch" | "delete", user: string): RelationshipUpdate => ({
    operation,
    relationship: { resource: { type: "tenant", id: tenant }, relation: "member", subject: { type: "user", id: user } },
  });

  /** Writes behind the cache's back, then moves the revision as a drain would. */
  async function applied(updates: RelationshipUpdate[]): Promise<void> {
    const token = await spicedb.authorization.writeRelationships(updates);
    const { revision, revokedRevision } = tracker.current();
    const revokes = updates.some((update) => update.operation === "delete");
    tracker.observe({ revision: revision + 1, zedToken: token, revokedRevision: revokes ? revision + 1 : revokedRevision });
  }

  const cached = (options: { monotonicSchema?: boolean; maxEntries?: number } = {}) =>
    new CachedAuthorization(spicedb.authorization, tracker, { monotonicSchema: options.monotonicSchema ?? true, ...options });

  it("answers a repeated check at the same revision from the cache", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached();
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.check(viewTenant("bob"))).toBe(false);
    expect(await cache.check(viewTenant("bob"))).toBe(false);
    expect(cache.stats()).toMatchObject({ name: "decisions", hits: 2, misses: 2, entries: 2 });
  });

  it("keeps an allowed decision across a revision that only granted, and asks a denied one again", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached();
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.check(viewTenant("bob"))).toBe(false);
    await applied([membership("touch", "bob")]);
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.check(viewTenant("bob"))).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it("drops every decision at a revision that deleted relationships", async () => {
    await applied([membership("touch", "ann"), membership("touch", "bob")]);
    const cache = cached();
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.check(viewTenant("bob"))).toBe(true);
    await applied([membership("delete", "ann")]);
    expect(cache.stats().entries).toBe(2);
    expect(await cache.check(viewTenant("ann"))).toBe(false);
    expect(await cache.check(viewTenant("bob"))).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 4 });
  });

  it("serves lookups only at the revision they were computed at, even with a monotonic schema", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached();
    const lookup = () => cache.lookupSubjects({ type: "tenant", id: tenant }, "view", "user");
    expect((await lookup()).sort()).toEqual(["ann"]);
    expect((await lookup()).sort()).toEqual(["ann"]);
    await applied([membership("touch", "bob")]);
    expect((await lookup()).sort()).toEqual(["ann", "bob"]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("keeps allowed decisions for one revision only when the schema is not known to be monotonic", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached({ monotonicSchema: false });
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    await applied([membership("touch", "bob")]);
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it("does not keep an answer when a revoking revision landed while SpiceDB was computing it", async () => {
    await applied([membership("touch", "ann")]);
    // The real engine, with a removal applied (and the revision moved) during the check.
    const inner = spicedb.authorization;
    const racing: AuthorizationPort = {
      check: async (check, consistency) => {
        const answer = await inner.check(check, consistency);
        await applied([membership("delete", "ann")]);
        return answer;
      },
      checkBulk: (checks, consistency) => inner.checkBulk(checks, consistency),
      lookupResources: (type, permission, subject, consistency) => inner.lookupResources(type, permission, subject, consistency),
      lookupSubjects: (resource, permission, type, consistency) => inner.lookupSubjects(resource, permission, type, consistency),
      readRelationships: (filter, consistency) => inner.readRelationships(filter, consistency),
      writeRelationships: (updates) => inner.writeRelationships(updates),
      deleteRelationships: (filter) => inner.deleteRelationships(filter),
    };
    const cache = new CachedAuthorization(racing, tracker, { monotonicSchema: true });
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(cache.stats().entries).toBe(0);
  });

  it("counts each check of a bulk check, and serves the known ones without asking SpiceDB", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached();
    expect(await cache.check(viewTenant("ann"))).toBe(true);
    expect(await cache.checkBulk([viewTenant("ann"), viewTenant("bob"), viewTenant("ann")])).toEqual([true, false, true]);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 });
  });

  it("evicts the least recently used decision at its entry bound instead of forgetting everything", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached({ maxEntries: 2 });
    await cache.check(viewTenant("ann"));
    await cache.check(viewTenant("bob"));
    await cache.check(viewTenant("ann"));
    await cache.check(viewTenant("cid")); // bob, the least recently used, goes
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1, hits: 1, misses: 3 });
    await cache.check(viewTenant("ann"));
    await cache.check(viewTenant("bob"));
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 4 });
  });

  it("passes a check with an explicit consistency straight through, uncounted", async () => {
    await applied([membership("touch", "ann")]);
    const cache = cached();
    expect(await cache.check(viewTenant("ann"), { kind: "full" })).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
  });
});
