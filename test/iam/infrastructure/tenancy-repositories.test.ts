import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInputError, NotFoundError } from "../../../src/iam/domain/errors.js";
import { Tenant } from "../../../src/iam/domain/tenant.js";
import { Workspace } from "../../../src/iam/domain/workspace.js";
import { DrizzleWorkspaceRepository } from "../../../src/iam/infrastructure/drizzle-workspace-repository.js";
import { createRepositories } from "../../../src/iam/infrastructure/repositories.js";
import type { Repositories } from "../../../src/iam/ports/repositories.js";
import { queryRows } from "../../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const now = new Date("2025-01-02T03:04:05.123Z");

describe.each(TEST_DATABASE_KINDS)("tenant and workspace repositories on %s", (kind) => {
  let database: TestDatabase;
  let tenant: Tenant;
  let root: Workspace;

  const inTransaction = <T>(work: (repositories: Repositories) => Promise<T>): Promise<T> =>
    database.handle.db.transaction((tx) => work(createRepositories(tx)));
  const plain = () => createRepositories(database.handle.db, kind);
  const run = (query: ReturnType<typeof sql>) => queryRows<Record<string, unknown>>(database.handle.db, query);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await run(sql`INSERT INTO users (id, username, email) VALUES
      ('alice', 'alice', 'Alice@Example.com'), ('bob', 'bob', 'bob@example.com'), ('carol', 'carol', null)`);
    tenant = Tenant.create({ name: "acme", creatorId: "alice", now });
    root = Workspace.createRoot({ name: "acme", tenantId: tenant.id, adminId: "alice", now });
    await inTransaction(async (r) => {
      await r.tenants.save(tenant);
      await r.workspaces.save(root);
    });
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("stores a tenant with its members and reads it back", async () => {
    expect(await plain().tenants.findById(tenant.id)).toEqual({ id: tenant.id, name: "acme" });
    expect(await plain().tenants.listMembers(tenant.id)).toEqual([{ userId: "alice", role: "admin" }]);
    expect(await plain().tenants.memberRole(tenant.id, "alice")).toBe("admin");
    expect(await plain().tenants.listByIds([tenant.id, "01J00000000000000000000000"])).toEqual([{ id: tenant.id, name: "acme" }]);
  });

  it("keeps tenant names unique per creator only, exactly as written", async () => {
    await expect(
      inTransaction((r) => r.tenants.save(Tenant.create({ name: "acme", creatorId: "alice", now }))),
    ).rejects.toThrow("You already created a tenant named 'acme'; choose another name");
    await inTransaction((r) => r.tenants.save(Tenant.create({ name: "ACME", creatorId: "alice", now })));
    await inTransaction((r) => r.tenants.save(Tenant.create({ name: "acme", creatorId: "bob", now })));
    await inTransaction((r) => r.tenants.save(Tenant.create({ name: "acme", creatorId: null, now })));
  });

  it("marks one default tenant, found by its marker, and adopts an unmarked one by name", async () => {
    expect(await plain().tenants.findDefault()).toBeNull();
    // A database from before the marker: the default tenant is the creator-less one of its name.
    const legacy = Tenant.create({ name: "default", creatorId: null, now });
    await inTransaction((r) => r.tenants.save(legacy));
    await inTransaction((r) => r.tenants.save(Tenant.create({ name: "default", creatorId: "bob", now })));
    expect(await inTransaction((r) => r.tenants.adoptDefault("nothing-of-that-name"))).toBeNull();
    expect(await inTransaction((r) => r.tenants.adoptDefault("default"))).toEqual({ id: legacy.id, name: "default" });
    expect(await plain().tenants.findDefault()).toEqual({ id: legacy.id, name: "default" });
    await expect(inTransaction((r) => r.tenants.insertDefault(Tenant.create({ name: "second", creatorId: null, now })))).rejects.toThrow();
    expect(await plain().tenants.memberRole(legacy.id, "bob")).toBeNull();
    const root = Workspace.createRoot({ name: "default", tenantId: legacy.id, adminId: null, now });
    expect(await inTransaction((r) => r.workspaces.insertIfAbsent(root))).toBe(true);
    const second = Workspace.createRoot({ name: "other", tenantId: legacy.id, adminId: null, now });
    expect(await inTransaction((r) => r.workspaces.insertIfAbsent(second))).toBe(false);
    expect((await plain().workspaces.findRoot(legacy.id))?.id).toBe(root.id);
  });

  it("persists member changes made on a loaded tenant", async () => {
    await inTransaction(async (r) => {
      const loaded = await r.tenants.loadForUpdate(tenant.id);
      loaded?.addMember("bob", "member", "alice", now);
      loaded?.addMember("carol", "admin", "alice", now);
      if (loaded) await r.tenants.save(loaded);
    });
    await inTransaction(async (r) => {
      const loaded = await r.tenants.loadForUpdate(tenant.id);
      expect(loaded?.roleOf("carol")).toBe("admin");
      loaded?.addMember("carol", "member", "alice", now);
      loaded?.removeMember("bob", "alice", now);
      if (loaded) await r.tenants.save(loaded);
    });
    expect(await plain().tenants.listMembers(tenant.id)).toEqual([
      { userId: "alice", role: "admin" },
      { userId: "carol", role: "member" },
    ]);
  });

  it("refuses a member who never signed in", async () => {
    await expect(
      inTransaction(async (r) => {
        const loaded = await r.tenants.loadForUpdate(tenant.id);
        loaded?.addMember("ghost", "member", "alice", now);
        if (loaded) await r.tenants.save(loaded);
      }),
    ).rejects.toThrow(InvalidInputError);
  });

  it("lists workspaces alike as rows and as one JSON value, timestamps to the millisecond", async () => {
    // Written by the database itself: microseconds, which both readings must cut the same way.
    const [row] = await run(sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id, is_root, created_at, updated_at)
      VALUES ('01JZZZZZZZZZZZZZZZZZZZZZZ1', ${tenant.id}, 'quoted "name" \\ é', ${root.id}, false,
              '2025-06-07 08:09:10.987654+00', '2025-06-07 08:09:11+00') RETURNING id`);
    const ids = [root.id, String(row?.["id"]), "01J00000000000000000000000"];
    const byId = (records: { id: string }[]) => [...records].sort((a, b) => a.id.localeCompare(b.id));
    const asRows = await new DrizzleWorkspaceRepository(database.handle.db).listByIds(tenant.id, ids);
    const asJson = await new DrizzleWorkspaceRepository(database.handle.db, { listsAsJson: true }).listByIds(tenant.id, ids);
    expect(byId(asJson)).toEqual(byId(asRows));
    expect(asJson.map((w) => w.name)).toContain('quoted "name" \\ é');
    const inserted = asJson.find((w) => w.id === row?.["id"]);
    expect(inserted?.createdAt.toISOString()).toBe("2025-06-07T08:09:10.987Z");
    expect(asJson.find((w) => w.id === root.id)).toMatchObject({ parentWorkspaceId: null, isRoot: true });
    expect(await new DrizzleWorkspaceRepository(database.handle.db, { listsAsJson: true }).listByIds(tenant.id, ["01J00000000000000000000000"])).toEqual([]);
    await run(sql`DELETE FROM workspaces WHERE id = ${row?.["id"]}`);
  });

  it("stores a workspace tree with members, scoped to the tenant", async () => {
    const docs = Workspace.create({ name: "docs", tenantId: tenant.id, parentWorkspaceId: root.id, creatorId: "alice", now });
    docs.addMember("carol", "user", "editor", now);
    await inTransaction((r) => r.workspaces.save(docs));
    const found = await plain().workspaces.findById(tenant.id, docs.id);
    expect(found).toMatchObject({ id: docs.id, name: "docs", parentWorkspaceId: root.id, isRoot: false });
    expect(found?.createdAt.toISOString()).toBe(now.toISOString());
    expect(await plain().workspaces.findById("01J00000000000000000000000", docs.id)).toBeNull();
    expect((await plain().workspaces.listByIds(tenant.id, [docs.id, root.id, "01J00000000000000000000000"])).length).toBe(2);
    expect(await plain().workspaces.listByIds("01J00000000000000000000000", [docs.id])).toEqual([]);
    expect(await plain().workspaces.listMembers(tenant.id, docs.id)).toEqual(
      expect.arrayContaining([
        { memberId: "alice", memberType: "user", role: "admin" },
        { memberId: "carol", memberType: "user", role: "editor" },
      ]),
    );
    expect(await plain().workspaces.listMembers("01J00000000000000000000000", docs.id)).toBeNull();
    expect((await plain().workspaces.findRoot(tenant.id))?.id).toBe(root.id);
    expect(await plain().workspaces.hasChildren(root.id)).toBe(true);
    expect(await plain().workspaces.hasChildren(docs.id)).toBe(false);
  });

  it("answers a duplicate workspace name with a conflict, case-sensitively", async () => {
    const make = (name: string) =>
      Workspace.create({ name, tenantId: tenant.id, parentWorkspaceId: root.id, creatorId: "alice", now });
    await inTransaction((r) => r.workspaces.save(make("dup")));
    await expect(inTransaction((r) => r.workspaces.save(make("dup")))).rejects.toThrow("Workspace 'dup' already exists in tenant");
    await inTransaction((r) => r.workspaces.save(make("DUP")));
  });

  it("stores a 512-character name in full", async () => {
    const long = "ł".repeat(512);
    const workspace = Workspace.create({ name: long, tenantId: tenant.id, parentWorkspaceId: root.id, creatorId: "alice", now });
    await inTransaction((r) => r.workspaces.save(workspace));
    expect((await plain().workspaces.findById(tenant.id, workspace.id))?.name).toBe(long);
  });

  it("refuses a parent that does not exist and a group that does not exist", async () => {
    const orphan = Workspace.create({ name: "orphan", tenantId: tenant.id, parentWorkspaceId: "01J00000000000000000000000", creatorId: "alice", now });
    await expect(inTransaction((r) => r.workspaces.save(orphan))).rejects.toThrow(NotFoundError);
    await expect(
      inTransaction(async (r) => {
        const loaded = await r.workspaces.loadForUpdate(tenant.id, root.id);
        loaded?.addMember("01J00000000000000000000000", "group", "member", now);
        if (loaded) await r.workspaces.save(loaded);
      }),
    ).rejects.toThrow(InvalidInputError);
  });

  it("refuses a parent from another tenant, leaving no row behind", async () => {
    const other = Tenant.create({ name: "other-tenant", creatorId: "bob", now });
    const otherRoot = Workspace.createRoot({ name: "other", tenantId: other.id, adminId: "bob", now });
    await inTransaction(async (r) => {
      await r.tenants.save(other);
      await r.workspaces.save(otherRoot);
    });
    const smuggled = Workspace.create({ name: "smuggled", tenantId: tenant.id, parentWorkspaceId: otherRoot.id, creatorId: "alice", now });
    await expect(inTransaction((r) => r.workspaces.save(smuggled))).rejects.toThrow(`Parent workspace ${otherRoot.id} not found`);
    expect(await run(sql`SELECT id FROM workspaces WHERE name = 'smuggled'`)).toEqual([]);
    expect(await run(sql`SELECT workspace_id FROM workspace_members WHERE workspace_id = ${smuggled.id}`)).toEqual([]);
  });

  it("renames and changes members of a loaded workspace", async () => {
    const ws = Workspace.create({ name: "before", tenantId: tenant.id, parentWorkspaceId: root.id, creatorId: "alice", now });
    await inTransaction((r) => r.workspaces.save(ws));
    const later = new Date("2025-02-01T00:00:00Z");
    await inTransaction(async (r) => {
      const loaded = await r.workspaces.loadForUpdate(tenant.id, ws.id);
      if (!loaded) throw new Error("missing");
      loaded.rename("after", later);
      loaded.addMember("bob", "user", "member", later);
      await r.workspaces.save(loaded);
    });
    await inTransaction(async (r) => {
      const loaded = await r.workspaces.loadForUpdate(tenant.id, ws.id);
      if (!loaded) throw new Error("missing");
      loaded.changeMemberRole("bob", "user", "admin", later);
      loaded.removeMember("alice", "user", later);
      await r.workspaces.save(loaded);
    });
    expect(await plain().workspaces.findById(tenant.id, ws.id)).toMatchObject({ name: "after", updatedAt: later });
    expect(await plain().workspaces.listMembers(tenant.id, ws.id)).toEqual([{ memberId: "bob", memberType: "user", role: "admin" }]);
    const where = await inTransaction((r) => r.workspaces.loadAroundUserForUpdate(tenant.id, "bob"));
    expect(where.map((w) => w.id)).toEqual([ws.id]);
    expect(where[0]?.roleOf("bob", "user")).toBe("admin");
  });

  it("loads the workspaces a user leaves around them, and removing them writes only their rows", async () => {
    const ws = Workspace.create({ name: "around", tenantId: tenant.id, parentWorkspaceId: root.id, creatorId: "alice", now });
    ws.addMember("bob", "user", "editor", now);
    ws.addMember("carol", "user", "member", now);
    await inTransaction((r) => r.workspaces.save(ws));
    await inTransaction(async (r) => {
      const loaded = (await r.workspaces.loadAroundUserForUpdate(tenant.id, "bob")).find((w) => w.id === ws.id);
      if (!loaded) throw new Error("missing");
      // Their membership and the admins: the last-admin rule needs no more.
      expect(["alice", "bob", "carol"].map((id) => loaded.roleOf(id, "user"))).toEqual(["admin", "editor", null]);
      expect(() => loaded.memberList()).toThrow("loaded around one member");
      loaded.removeDepartingUser("bob", now);
      await r.workspaces.saveAll([loaded]);
    });
    const left = await plain().workspaces.listMembers(tenant.id, ws.id);
    expect(left?.map((m) => `${m.memberId}:${m.role}`).sort()).toEqual(["alice:admin", "carol:member"]);
  });

  it("will not delete a workspace that has children", async () => {
    await expect(
      inTransaction(async (r) => {
        const loaded = await r.workspaces.loadForUpdate(tenant.id, root.id);
        if (loaded) await r.workspaces.delete([loaded]);
      }),
    ).rejects.toThrow("Cannot delete workspace with children");
    expect(await plain().workspaces.findById(tenant.id, root.id)).not.toBeNull();
  });

  it("finds a user's groups and live keys in one tenant only, for the aggregates to remove and revoke", async () => {
    const other = Tenant.create({ name: "other", creatorId: "bob", now });
    await inTransaction((r) => r.tenants.save(other));
    await run(sql`INSERT INTO groups (id, tenant_id, name) VALUES ('01J0000000000000000000000A', ${tenant.id}, 'ops'), ('01J0000000000000000000000B', ${other.id}, 'ops')`);
    await run(sql`INSERT INTO group_members (group_id, user_id, role) VALUES
      ('01J0000000000000000000000A', 'bob', 'admin'), ('01J0000000000000000000000A', 'carol', 'member'),
      ('01J0000000000000000000000B', 'bob', 'admin')`);
    await run(sql`INSERT INTO api_keys (id, tenant_id, created_by_user_id, name, key_digest, prefix, expires_at) VALUES
      ('01J0000000000000000000000C', ${tenant.id}, 'bob', 'k', ${"a".repeat(64)}, 'karto_aaaaaa', now() + interval '1 day'),
      ('01J0000000000000000000000D', ${other.id}, 'bob', 'k', ${"b".repeat(64)}, 'karto_bbbbbb', now() + interval '1 day')`);

    const lastAdmin = await inTransaction((r) => r.groups.lockGroupsOfMember(tenant.id, "bob"));
    expect(lastAdmin.map((g) => g.id)).toEqual(["01J0000000000000000000000A"]);
    expect(() => lastAdmin[0]!.removeDepartingMember("bob", now)).toThrow("they are the last admin of group 'ops'");
    await run(sql`UPDATE group_members SET role = 'admin' WHERE user_id = 'carol'`);
    await inTransaction(async (r) => {
      const [group] = await r.groups.lockGroupsOfMember(tenant.id, "bob");
      group!.removeDepartingMember("bob", now);
      await r.groups.save(group!);
      const keys = await r.apiKeys.lockLiveKeysOfCreator(tenant.id, "bob");
      expect(keys.map((k) => k.id)).toEqual(["01J0000000000000000000000C"]);
      for (const key of keys) {
        key.revokeWithCreator(now);
        await r.apiKeys.save(key);
        expect(key.pullEvents()).toEqual([{ type: "ApiKeyRevoked", tenantId: tenant.id, occurredAt: now, apiKeyId: key.id, userId: "bob" }]);
      }
    });
    expect(await inTransaction((r) => r.apiKeys.lockLiveKeysOfCreator(tenant.id, "bob"))).toEqual([]);
    expect(await run(sql`SELECT group_id FROM group_members WHERE user_id = 'bob'`)).toEqual([{ group_id: "01J0000000000000000000000B" }]);
    expect(await run(sql`SELECT id FROM api_keys WHERE revoked_at IS NULL`)).toEqual([{ id: "01J0000000000000000000000D" }]);
  });

  it("deletes a tenant's groups and keys, whose aggregates record the events", async () => {
    const doomed = Tenant.create({ name: "doomed", creatorId: "alice", now });
    await inTransaction((r) => r.tenants.save(doomed));
    await run(sql`INSERT INTO groups (id, tenant_id, name) VALUES ('01J0000000000000000000000E', ${doomed.id}, 'g')`);
    await run(sql`INSERT INTO group_members (group_id, user_id, role) VALUES ('01J0000000000000000000000E', 'alice', 'admin')`);
    await run(sql`INSERT INTO api_keys (id, tenant_id, created_by_user_id, name, key_digest, prefix, expires_at) VALUES
      ('01J0000000000000000000000F', ${doomed.id}, 'alice', 'k', ${"c".repeat(64)}, 'karto_cccccc', now() + interval '1 day')`);
    await inTransaction(async (r) => {
      const groups = await r.groups.lockAllOfTenant(doomed.id);
      for (const group of groups) group.markDeletedWithTenant(now);
      await r.groups.removeAll(groups);
      expect(groups.flatMap((g) => g.pullEvents())).toEqual([
        { type: "GroupDeleted", tenantId: doomed.id, occurredAt: now, groupId: "01J0000000000000000000000E", name: "g", members: [{ userId: "alice", role: "admin" }] },
      ]);
      const keys = await r.apiKeys.lockAllOfTenant(doomed.id);
      await expect(r.apiKeys.removeAll(keys)).rejects.toThrow("must be marked deleted");
      for (const key of keys) key.markDeletedWithTenant(now);
      await r.apiKeys.removeAll(keys);
      expect(keys.flatMap((k) => k.pullEvents())).toEqual([
        { type: "ApiKeyDeleted", tenantId: doomed.id, occurredAt: now, apiKeyId: "01J0000000000000000000000F", userId: "alice" },
      ]);
      const loaded = await r.tenants.loadForUpdate(doomed.id);
      if (loaded) await r.tenants.delete(loaded);
    });
    expect(await plain().tenants.findById(doomed.id)).toBeNull();
    expect(await run(sql`SELECT count(*)::int AS n FROM group_members WHERE group_id = '01J0000000000000000000000E'`)).toEqual([{ n: 0 }]);
  });
});
