import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthenticatedUser } from "../../../src/iam/application/caller.js";
import { ForbiddenError, NotFoundError } from "../../../src/iam/domain/errors.js";
import { TEST_DATABASE_KINDS } from "../../support/test-database.js";
import { createTenancyFixture, type TenancyFixture } from "../../support/tenancy-fixture.js";

const userOf = (userId: string): AuthenticatedUser => ({ userId, username: userId, apiKeyId: null, apiKeyTenantId: null });

describe.each(TEST_DATABASE_KINDS)("tenant service on %s", (kind) => {
  let f: TenancyFixture;

  const relationshipsOf = async (resourceType: string, resourceId: string) =>
    f.spicedb.authorization.readRelationships({ resourceType, resourceId });
  const check = (type: string, id: string, permission: string, userId: string) =>
    f.runtime.authorization.check({ resource: { type, id }, permission, subject: { type: "user", id: userId } });
  const recordGroup = async (tenantId: string, groupId: string, members: [string, "admin" | "member"][]) => {
    await f.rows(sql`INSERT INTO groups (id, tenant_id, name) VALUES (${groupId}, ${tenantId}, ${`group ${groupId}`})`);
    for (const [userId, role] of members) {
      await f.rows(sql`INSERT INTO group_members (group_id, user_id, role) VALUES (${groupId}, ${userId}, ${role})`);
    }
    await f.runtime.unitOfWork.run(async (tx) => {
      tx.record({ type: "GroupCreated", tenantId, groupId, occurredAt: new Date() });
      for (const [userId, role] of members) {
        tx.record({ type: "GroupMemberAdded", tenantId, groupId, userId, role, occurredAt: new Date() });
      }
    });
  };
  const recordApiKey = async (tenantId: string, id: string, userId: string) => {
    await f.rows(sql`INSERT INTO api_keys (id, tenant_id, created_by_user_id, name, key_digest, prefix, expires_at)
      VALUES (${id}, ${tenantId}, ${userId}, ${id}, ${id.padEnd(64, "0")}, 'karto_abcdef', now() + interval '1 day')`);
    await f.runtime.unitOfWork.run(async (tx) => {
      tx.record({ type: "ApiKeyCreated", tenantId, apiKeyId: id, userId, name: id, prefix: "karto_abcdef", occurredAt: new Date() });
    });
  };

  beforeAll(async () => {
    f = await createTenancyFixture(kind);
    await f.addUsers("ada", "bob", "cyd", "dan", "fay", { id: "eve", email: "EVE@example.com" });
  });
  afterAll(async () => {
    await f?.dispose();
  });

  it("creates a tenant whose creator administers it and its root workspace, at once", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "alpha");
    expect(await f.tenants.get(userOf("ada"), tenant.id)).toEqual(tenant);
    expect(await f.tenants.list(userOf("ada"))).toContainEqual(tenant);
    const root = (await f.workspaces.list(f.caller("ada", tenant.id)))[0];
    expect(root).toMatchObject({ name: "alpha", isRoot: true, parentWorkspaceId: null });
    expect(await check("workspace", root?.id ?? "", "manage", "ada")).toBe(true);
    expect(await f.tenants.listMembers(f.caller("ada", tenant.id), tenant.id)).toEqual([{ status: "active", userId: "ada", role: "admin" }]);
    // Names are unique per creator: the same person is told, nobody else learns the name is used.
    await expect(f.tenants.create(userOf("ada"), "alpha")).rejects.toThrow("You already created a tenant named 'alpha'");
    const fays = await f.tenants.create(userOf("fay"), "alpha");
    expect(fays.id).not.toBe(tenant.id);
    await expect(f.tenants.get(userOf("fay"), tenant.id)).rejects.toThrow(NotFoundError);
  });

  it("promotes with the root workspace and demotes without it; never loses the last admin", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "beta");
    const ada = f.caller("ada", tenant.id);
    const root = await f.rows<{ id: string }>(sql`SELECT id FROM workspaces WHERE tenant_id = ${tenant.id} AND is_root`);
    const rootId = root[0]?.id ?? "";
    await f.tenants.addMember(ada, tenant.id, { userId: "eve", role: "member" });
    expect(await check("workspace", rootId, "create_child", "eve")).toBe(true);
    // By email, a member of the tenant gets the role (matched in any case).
    await f.tenants.addMember(ada, tenant.id, { email: "eve@EXAMPLE.com", role: "member" });
    expect(await check("workspace", rootId, "manage", "eve")).toBe(false);
    await f.tenants.addMember(ada, tenant.id, { userId: "eve", role: "admin" });
    expect(await check("workspace", rootId, "manage", "eve")).toBe(true);
    // The same role again is a success that changes nothing.
    await f.tenants.addMember(ada, tenant.id, { userId: "eve", role: "admin" });
    await f.tenants.addMember(ada, tenant.id, { userId: "eve", role: "member" });
    expect(await check("workspace", rootId, "manage", "eve")).toBe(false);
    expect(await check("tenant", tenant.id, "administrate", "eve")).toBe(false);
    await expect(f.tenants.addMember(ada, tenant.id, { userId: "ada", role: "member" })).rejects.toThrow("Cannot demote the last admin of the tenant");
    await expect(f.tenants.removeMember(ada, tenant.id, "ada")).rejects.toThrow("Cannot remove the last admin from the tenant");
    // Members can view but not administrate: 403, not 404.
    await expect(f.tenants.listMembers(f.caller("eve", tenant.id), tenant.id)).rejects.toThrow(ForbiddenError);
    await expect(f.tenants.listMembers(f.caller("bob", tenant.id), tenant.id)).rejects.toThrow(NotFoundError);
    await expect(f.tenants.addMember(ada, tenant.id, { userId: "never-signed-in", role: "member" })).rejects.toThrow(/does not exist/);
  });

  it("removes a member with their workspace and group roles and revokes their keys in that tenant", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "gamma");
    const ada = f.caller("ada", tenant.id);
    await f.tenants.addMember(ada, tenant.id, { userId: "bob", role: "member" });
    const rootId = (await f.workspaces.list(ada))[0]?.id ?? "";
    const ws = await f.workspaces.create(ada, { name: "shared", parentWorkspaceId: rootId });
    await f.workspaces.addMember(ada, ws.id, { memberId: "bob", memberType: "user", role: "editor" });
    const bobs = await f.workspaces.create(f.caller("bob", tenant.id), { name: "bob's", parentWorkspaceId: rootId });
    await f.workspaces.addMember(f.caller("bob", tenant.id), bobs.id, { memberId: "ada", memberType: "user", role: "admin" });
    await recordGroup(tenant.id, "01J000000000000000000GAMMA", [["ada", "admin"], ["bob", "member"]]);
    await recordApiKey(tenant.id, "01J00000000000000000KEYB0B", "bob");

    await f.tenants.removeMember(ada, tenant.id, "bob");

    const bob = f.caller("bob", tenant.id);
    await expect(f.workspaces.get(bob, ws.id)).rejects.toThrow(NotFoundError);
    expect(await check("group", "01J000000000000000000GAMMA", "view", "bob")).toBe(false);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM workspace_members WHERE member_id = 'bob'`)).toEqual([{ n: 0 }]);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM group_members WHERE user_id = 'bob'`)).toEqual([{ n: 0 }]);
    expect(await f.rows(sql`SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = '01J00000000000000000KEYB0B'`)).toEqual([{ revoked: true }]);
    const events = await f.rows<{ event_type: string }>(sql`SELECT event_type FROM outbox WHERE tenant_id = ${tenant.id} ORDER BY sequence DESC LIMIT 5`);
    expect(events.map((e) => e.event_type)).toEqual(
      expect.arrayContaining(["WorkspaceMemberRemoved", "GroupMemberRemoved", "ApiKeyRevoked", "TenantMemberRemoved"]),
    );
    expect(f.tenantProbe.named("memberRemoved").at(-1)?.fact).toMatchObject({ userId: "bob", workspaces: 2, groups: 1, apiKeys: 1 });
    // Removing a non-member is a success that changes nothing.
    await f.tenants.removeMember(ada, tenant.id, "bob");
  });

  it("refuses to remove the last admin of a workspace or group inside the tenant, changing nothing", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "delta");
    const ada = f.caller("ada", tenant.id);
    await f.tenants.addMember(ada, tenant.id, { userId: "cyd", role: "member" });
    const rootId = (await f.workspaces.list(ada))[0]?.id ?? "";
    const cyds = await f.workspaces.create(f.caller("cyd", tenant.id), { name: "cyd only", parentWorkspaceId: rootId });
    await expect(f.tenants.removeMember(ada, tenant.id, "cyd")).rejects.toThrow(`last admin of workspace 'cyd only'`);
    await f.workspaces.addMember(f.caller("cyd", tenant.id), cyds.id, { memberId: "ada", memberType: "user", role: "admin" });
    await recordGroup(tenant.id, "01J000000000000000000DELTA", [["cyd", "admin"]]);
    await expect(f.tenants.removeMember(ada, tenant.id, "cyd")).rejects.toThrow(`last admin of group`);
    expect(await f.tenants.listMembers(ada, tenant.id)).toContainEqual({ status: "active", userId: "cyd", role: "member" });
    expect(await f.workspaces.listMembers(ada, cyds.id)).toContainEqual({ memberId: "cyd", memberType: "user", role: "admin" });
    expect(await check("workspace", cyds.id, "manage", "cyd")).toBe(true);
  });

  it("deletes a tenant with a deep tree, groups and API keys: every row and relationship goes", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "doomed");
    const ada = f.caller("ada", tenant.id);
    await f.tenants.addMember(ada, tenant.id, { userId: "dan", role: "member" });
    let parentId = (await f.workspaces.list(ada))[0]?.id ?? "";
    const ids = [parentId];
    for (let depth = 0; depth < 6; depth++) {
      const child = await f.workspaces.create(ada, { name: `level ${depth}`, parentWorkspaceId: parentId });
      await f.workspaces.create(ada, { name: `sibling ${depth}`, parentWorkspaceId: parentId });
      parentId = child.id;
      ids.push(child.id);
    }
    await recordGroup(tenant.id, "01J0000000000000000DOOMED1", [["ada", "admin"], ["dan", "member"]]);
    await f.workspaces.addMember(ada, parentId, { memberId: "01J0000000000000000DOOMED1", memberType: "group", role: "member" });
    await recordApiKey(tenant.id, "01J000000000000000KEYD00M1", "dan");

    await expect(f.tenants.delete(f.caller("dan", tenant.id), tenant.id)).rejects.toThrow(ForbiddenError);
    await f.tenants.delete(ada, tenant.id);

    for (const table of ["workspaces", "groups", "api_keys", "tenant_members"]) {
      const rows = await f.rows(sql`SELECT count(*)::int AS n FROM ${sql.raw(table)} WHERE tenant_id = ${tenant.id}`);
      expect(rows, table).toEqual([{ n: 0 }]);
    }
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM tenants WHERE id = ${tenant.id}`)).toEqual([{ n: 0 }]);
    for (const id of ids) expect(await relationshipsOf("workspace", id)).toEqual([]);
    expect(await relationshipsOf("tenant", tenant.id)).toEqual([]);
    expect(await relationshipsOf("group", "01J0000000000000000DOOMED1")).toEqual([]);
    expect(await relationshipsOf("api_key", "01J000000000000000KEYD00M1")).toEqual([]);
    await expect(f.tenants.get(userOf("ada"), tenant.id)).rejects.toThrow(NotFoundError);
    expect(f.tenantProbe.named("tenantDeleted").at(-1)?.fact).toMatchObject({ workspaces: 13, groups: 1, apiKeys: 1 });
  });

  it("leaves everything as it was when the cascade fails midway", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "sturdy");
    const ada = f.caller("ada", tenant.id);
    const rootId = (await f.workspaces.list(ada))[0]?.id ?? "";
    const child = await f.workspaces.create(ada, { name: "child", parentWorkspaceId: rootId });
    await recordGroup(tenant.id, "01J000000000000000STURDYG1", [["ada", "admin"]]);
    // Groups are deleted after the workspaces: make that step fail.
    await f.rows(sql`CREATE FUNCTION refuse_group_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await f.rows(sql`CREATE TRIGGER refuse_group_delete BEFORE DELETE ON groups FOR EACH ROW EXECUTE FUNCTION refuse_group_delete()`);
    try {
      await expect(f.tenants.delete(ada, tenant.id)).rejects.toThrow();
    } finally {
      await f.rows(sql`DROP TRIGGER refuse_group_delete ON groups`);
      await f.rows(sql`DROP FUNCTION refuse_group_delete()`);
    }
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM workspaces WHERE tenant_id = ${tenant.id}`)).toEqual([{ n: 2 }]);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM groups WHERE tenant_id = ${tenant.id}`)).toEqual([{ n: 1 }]);
    expect((await f.workspaces.get(ada, child.id)).id).toBe(child.id);
    expect(await check("tenant", tenant.id, "administrate", "ada")).toBe(true);
    expect(f.tenantProbe.named("tenantDeletionFailed").at(-1)?.fact).toMatchObject({ tenantId: tenant.id });
  });

  it("refuses tenant management in single-tenant mode", async () => {
    const single = await createTenancyFixture(kind, { singleTenantMode: true });
    try {
      await single.addUsers("ada");
      await expect(single.tenants.create(userOf("ada"), "nope")).rejects.toThrow("Tenant management is disabled in single-tenant mode");
    } finally {
      await single.dispose();
    }
  });

  it("ensures the default tenant once and lets users join it, bootstrap admins as root admins", async () => {
    const single = await createTenancyFixture(kind, { singleTenantMode: true, defaultTenantName: "default", defaultWorkspaceName: "Home" });
    try {
      await single.addUsers("root-admin", "someone");
      const id = await single.tenants.ensureDefaultTenant();
      expect(await single.tenants.ensureDefaultTenant()).toBe(id);
      await single.tenants.join("root-admin", true);
      await single.tenants.join("someone", false);
      await single.tenants.join("someone", true); // already a member: unchanged
      const members = await single.rows(sql`SELECT user_id, role FROM tenant_members ORDER BY user_id`);
      expect(members).toEqual([
        { user_id: "root-admin", role: "admin" },
        { user_id: "someone", role: "member" },
      ]);
      const root = await single.rows<{ id: string; name: string }>(sql`SELECT id, name FROM workspaces WHERE is_root`);
      expect(root).toHaveLength(1);
      expect(root[0]?.name).toBe("Home");
      const caller = (userId: string) => single.caller(userId, id);
      expect((await single.workspaces.listMembers(caller("root-admin"), root[0]?.id ?? "")).map((m) => m.memberId)).toEqual(["root-admin"]);
      await expect(single.workspaces.create(caller("someone"), { name: "mine", parentWorkspaceId: root[0]?.id ?? "" })).resolves.toBeDefined();
    } finally {
      await single.dispose();
    }
  });

  it("invites by email whoever is not a member, answering alike whether or not the email has an account", async () => {
    const tenant = await f.tenants.create(userOf("ada"), "epsilon");
    const ada = f.caller("ada", tenant.id);
    // Permission first: an outsider learns nothing about the email.
    await expect(f.tenants.addMember(f.caller("bob", tenant.id), tenant.id, { email: "nobody@example.com", role: "member" })).rejects.toThrow(
      NotFoundError,
    );
    const unknown = await f.tenants.addMember(ada, tenant.id, { email: " Nobody@Example.com ", role: "member" });
    const existing = await f.tenants.addMember(ada, tenant.id, { email: "Eve@Example.com", role: "admin" });
    expect(unknown).toEqual({ status: "pending", userId: "invitation:nobody@example.com", email: "nobody@example.com", role: "member" });
    expect(existing).toEqual({ status: "pending", userId: "invitation:eve@example.com", email: "eve@example.com", role: "admin" });
    // Nothing is granted before the invitation binds.
    expect(await check("tenant", tenant.id, "view", "eve")).toBe(false);
    expect(await f.tenants.listMembers(ada, tenant.id)).toEqual([
      { status: "active", userId: "ada", role: "admin" },
      { status: "pending", userId: "invitation:eve@example.com", email: "eve@example.com", role: "admin" },
      { status: "pending", userId: "invitation:nobody@example.com", email: "nobody@example.com", role: "member" },
    ]);
    // Inviting again changes the role; revoking goes through the member route's id.
    await f.tenants.addMember(ada, tenant.id, { email: "nobody@example.com", role: "admin" });
    await f.tenants.removeMember(ada, tenant.id, "invitation:NOBODY@example.com");
    expect((await f.tenants.listMembers(ada, tenant.id)).map((m) => m.userId)).toEqual(["ada", "invitation:eve@example.com"]);
    expect(f.tenantProbe.named("invitationRevoked").at(-1)?.fact).toEqual({ tenantId: tenant.id, email: "nobody@example.com" });
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM outbox WHERE tenant_id = ${tenant.id} AND event_type = 'TenantMemberAdded'`)).toEqual([
      { n: 1 },
    ]);
  });

  it("binds invitations once, with their role and the inviter's event, as a member of the root workspace for admins", async () => {
    const zeta = await f.tenants.create(userOf("ada"), "zeta");
    const eta = await f.tenants.create(userOf("bob"), "eta");
    await f.tenants.addMember(f.caller("ada", zeta.id), zeta.id, { email: "eve@example.com", role: "admin" });
    await f.tenants.addMember(f.caller("bob", eta.id), eta.id, { email: "EVE@example.com", role: "member" });
    await f.tenants.addMember(f.caller("bob", eta.id), eta.id, { userId: "eve", role: "admin" }); // joined meanwhile

    const bound = f.tenantProbe.named("invitationBound").length;
    // Every inviting tenant she is a member of now counts (epsilon's too, from the test above).
    const joined = await f.tenants.bindInvitations("eve", "eve@example.com");
    expect(joined).toEqual(expect.arrayContaining([zeta.id, eta.id]));
    expect(f.tenantProbe.named("invitationBound").slice(bound).map((c) => c.fact["tenantId"])).not.toContain(eta.id);
    expect(await f.tenants.bindInvitations("eve", "eve@example.com")).toEqual([]);

    expect(await check("tenant", zeta.id, "administrate", "eve")).toBe(true);
    const zetaRoot = (await f.workspaces.list(f.caller("ada", zeta.id)))[0]?.id ?? "";
    expect(await check("workspace", zetaRoot, "manage", "eve")).toBe(true);
    // Already a member: keeps the role they hold; the invitation is used up.
    expect(await f.tenants.listMembers(f.caller("bob", eta.id), eta.id)).toContainEqual({ status: "active", userId: "eve", role: "admin" });
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM tenant_invitations WHERE email = 'eve@example.com'`)).toEqual([{ n: 0 }]);
    const added = await f.rows<{ payload: { userId: string; role: string; addedBy: string } }>(
      sql`SELECT payload FROM outbox WHERE tenant_id = ${zeta.id} AND event_type = 'TenantMemberAdded' ORDER BY sequence DESC LIMIT 1`,
    );
    expect(added[0]?.payload).toMatchObject({ userId: "eve", role: "admin", addedBy: "ada" });
    expect(f.tenantProbe.named("invitationBound").at(-1)?.fact).toEqual({ tenantId: zeta.id, userId: "eve", role: "admin" });
  });

  it("hides every other tenant from an API key and refuses it tenant creation and deletion", async () => {
    const own = await f.tenants.create(userOf("ada"), "key home");
    const other = await f.tenants.create(userOf("ada"), "key elsewhere");
    const key = { userId: "ada", username: "api-key:01J0000000000000000000KEY1", apiKeyId: "01J0000000000000000000KEY1", apiKeyTenantId: own.id };
    const asKey = { ...key, tenantId: own.id };
    expect(await f.tenants.list(key)).toEqual([own]);
    await expect(f.tenants.get(key, other.id)).rejects.toThrow(NotFoundError);
    await expect(f.tenants.listMembers(asKey, other.id)).rejects.toThrow(NotFoundError);
    await expect(f.tenants.addMember(asKey, other.id, { userId: "bob", role: "admin" })).rejects.toThrow(NotFoundError);
    await expect(f.tenants.removeMember(asKey, other.id, "ada")).rejects.toThrow(NotFoundError);
    await expect(f.tenants.delete(asKey, other.id)).rejects.toThrow(NotFoundError);
    await expect(f.tenants.delete(asKey, own.id)).rejects.toThrow("API keys cannot create or delete tenants; use a person's token");
    await expect(f.tenants.create(key, "by key")).rejects.toThrow("API keys cannot create or delete tenants; use a person's token");
    expect(await f.tenants.get(key, own.id)).toEqual(own);
  });
});
