import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "../../../src/iam/application/caller.js";
import { ConflictError, ForbiddenError, InvalidInputError, LastAdminError, NotFoundError } from "../../../src/iam/domain/errors.js";
import { ObservationContext } from "../../../src/shared-kernel/observation-context.js";
import { TEST_DATABASE_KINDS } from "../../support/test-database.js";
import { createTenancyFixture, type TenancyFixture } from "../../support/tenancy-fixture.js";

describe.each(TEST_DATABASE_KINDS)("workspace service on %s", (kind) => {
  let f: TenancyFixture;
  let tenantId: string;
  let rootId: string;
  let admin: Caller; // tenant admin, root admin
  let member: Caller; // plain tenant member
  let outsider: Caller; // another tenant's admin, same service

  beforeAll(async () => {
    f = await createTenancyFixture(kind);
    await f.addUsers("ada", "max", "otto", { id: "eve", email: "Eve.Mixed@Example.COM" });
    const tenant = await f.tenants.create({ userId: "ada", username: "ada", apiKeyId: null, apiKeyTenantId: null }, "acme");
    tenantId = tenant.id;
    admin = f.caller("ada", tenantId);
    await f.tenants.addMember(admin, tenantId, { userId: "max", role: "member" });
    await f.tenants.addMember(admin, tenantId, { userId: "eve", role: "member" });
    rootId = (await f.workspaces.list(admin)).find((w) => w.isRoot)?.id ?? "";
    member = f.caller("max", tenantId);
    const other = await f.tenants.create({ userId: "otto", username: "otto", apiKeyId: null, apiKeyTenantId: null }, "other");
    outsider = f.caller("otto", other.id);
  });
  afterAll(async () => {
    await f?.dispose();
  });

  it("lets a creator read, list and manage the workspace in the very next call", async () => {
    const created = await f.workspaces.create(member, { name: "max's", parentWorkspaceId: rootId });
    expect(created).toMatchObject({ name: "max's", parentWorkspaceId: rootId, isRoot: false, tenantId });
    expect(created.createdAt).toEqual(created.updatedAt);
    expect((await f.workspaces.get(member, created.id)).id).toBe(created.id);
    expect((await f.workspaces.list(member)).map((w) => w.id)).toContain(created.id);
    const renamed = await f.workspaces.rename(member, created.id, "renamed");
    expect(renamed.name).toBe("renamed");
    expect(await f.workspaces.listMembers(member, created.id)).toEqual([{ memberId: "max", memberType: "user", role: "admin" }]);
  });

  it("lets a plain tenant member create under the root only", async () => {
    const child = await f.workspaces.create(admin, { name: "admins-only", parentWorkspaceId: rootId });
    await expect(f.workspaces.create(member, { name: "sneaky", parentWorkspaceId: child.id })).rejects.toThrow(NotFoundError);
    await f.workspaces.addMember(admin, child.id, { memberId: "max", memberType: "user", role: "member" });
    // Now max can view the parent but may not create under it.
    await expect(f.workspaces.create(member, { name: "sneaky", parentWorkspaceId: child.id })).rejects.toThrow(ForbiddenError);
    await f.workspaces.addMember(admin, child.id, { memberId: "max", memberType: "user", role: "editor" });
    await expect(f.workspaces.create(member, { name: "allowed", parentWorkspaceId: child.id })).resolves.toMatchObject({ name: "allowed" });
  });

  it("shows tenant admins every workspace but lets them manage only where they are admin", async () => {
    const mine = await f.workspaces.create(member, { name: "private to max", parentWorkspaceId: rootId });
    expect((await f.workspaces.get(admin, mine.id)).id).toBe(mine.id);
    expect((await f.workspaces.list(admin)).map((w) => w.id)).toContain(mine.id);
    await expect(f.workspaces.rename(admin, mine.id, "taken over")).rejects.toThrow(ForbiddenError);
    await expect(f.workspaces.delete(admin, mine.id)).rejects.toThrow(ForbiddenError);
    // A member who cannot view it gets the same answer as for a missing workspace, for every operation.
    await f.addUsers("nina");
    await f.tenants.addMember(admin, tenantId, { userId: "nina", role: "member" });
    const nina = f.caller("nina", tenantId);
    await expect(f.workspaces.get(nina, mine.id)).rejects.toThrow(NotFoundError);
    await expect(f.workspaces.rename(nina, mine.id, "x")).rejects.toThrow(NotFoundError);
    await expect(f.workspaces.listMembers(nina, mine.id)).rejects.toThrow(NotFoundError);
    await expect(f.workspaces.addMember(nina, mine.id, { memberId: "nina", memberType: "user", role: "admin" })).rejects.toThrow(NotFoundError);
    expect((await f.workspaces.list(nina)).map((w) => w.id)).not.toContain(mine.id);
  });

  it("treats another tenant's workspaces as missing", async () => {
    const theirs = (await f.workspaces.list(outsider))[0];
    if (!theirs) throw new Error("outsider has a root");
    await expect(f.workspaces.get(admin, theirs.id)).rejects.toThrow(NotFoundError);
    await expect(f.workspaces.create(admin, { name: "x", parentWorkspaceId: theirs.id })).rejects.toThrow(NotFoundError);
    // Even with a role there, a caller scoped to another tenant does not see it.
    await expect(f.workspaces.get(f.caller("otto", tenantId), theirs.id)).rejects.toThrow(NotFoundError);
    await expect(f.workspaces.delete(f.caller("otto", tenantId), theirs.id)).rejects.toThrow(NotFoundError);
  });

  it("refuses to delete the root and a workspace with children; deletes a leaf and forgets it", async () => {
    await expect(f.workspaces.delete(admin, rootId)).rejects.toThrow("Root workspace cannot be deleted");
    const parent = await f.workspaces.create(admin, { name: "parent", parentWorkspaceId: rootId });
    const leaf = await f.workspaces.create(admin, { name: "leaf", parentWorkspaceId: parent.id });
    await expect(f.workspaces.delete(admin, parent.id)).rejects.toThrow("Cannot delete workspace with children");
    await f.workspaces.delete(admin, leaf.id);
    await expect(f.workspaces.get(admin, leaf.id)).rejects.toThrow(NotFoundError);
    expect(await f.spicedb.authorization.readRelationships({ resourceType: "workspace", resourceId: leaf.id })).toEqual([]);
    await f.workspaces.delete(admin, parent.id);
    expect(f.workspaceProbe.named("workspaceDeletionFailed").map((c) => c.fact["reason"])).toEqual(
      expect.arrayContaining(["Root workspace cannot be deleted", "Cannot delete workspace with children"]),
    );
  });

  it("answers duplicate names with a conflict, case-sensitively", async () => {
    await f.workspaces.create(admin, { name: "Reports", parentWorkspaceId: rootId });
    await expect(f.workspaces.create(admin, { name: "Reports", parentWorkspaceId: rootId })).rejects.toThrow(
      "Workspace 'Reports' already exists in tenant",
    );
    await expect(f.workspaces.create(admin, { name: "reports", parentWorkspaceId: rootId })).resolves.toBeDefined();
    const other = await f.workspaces.create(admin, { name: "other", parentWorkspaceId: rootId });
    await expect(f.workspaces.rename(admin, other.id, "Reports")).rejects.toThrow(ConflictError);
  });

  it("never leaves a workspace without an admin, by any route", async () => {
    const ws = await f.workspaces.create(admin, { name: "guarded", parentWorkspaceId: rootId });
    await expect(f.workspaces.removeMember(admin, ws.id, { memberId: "ada", memberType: "user" })).rejects.toThrow(LastAdminError);
    await expect(f.workspaces.changeMemberRole(admin, ws.id, { memberId: "ada", memberType: "user" }, "editor")).rejects.toThrow(LastAdminError);
    await expect(f.workspaces.addMember(admin, ws.id, { memberId: "ada", memberType: "user", role: "member" })).rejects.toThrow(LastAdminError);
    expect(await f.workspaces.listMembers(admin, ws.id)).toEqual([{ memberId: "ada", memberType: "user", role: "admin" }]);
  });

  it("treats the same role again as a success, and replaces a different one", async () => {
    const ws = await f.workspaces.create(admin, { name: "roles", parentWorkspaceId: rootId });
    await f.workspaces.addMember(admin, ws.id, { memberId: "max", memberType: "user", role: "member" });
    const outboxBefore = await f.rows(sql`SELECT count(*)::int AS n FROM outbox`);
    await f.workspaces.addMember(admin, ws.id, { memberId: "max", memberType: "user", role: "member" });
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM outbox`)).toEqual(outboxBefore);
    await f.workspaces.addMember(admin, ws.id, { memberId: " max ", memberType: "user", role: "editor" });
    expect(await f.workspaces.listMembers(admin, ws.id)).toEqual(
      expect.arrayContaining([{ memberId: "max", memberType: "user", role: "editor" }]),
    );
    // One role only, in SpiceDB too.
    const relations = await f.spicedb.authorization.readRelationships({ resourceType: "workspace", resourceId: ws.id, subjectType: "user", subjectId: "max" });
    expect(relations.map((r) => r.relation)).toEqual(["editor"]);
  });

  it("adds by email whatever its case, after the permission check", async () => {
    const ws = await f.workspaces.create(admin, { name: "by email", parentWorkspaceId: rootId });
    const added = await f.workspaces.addMember(admin, ws.id, { email: "  eve.mixed@example.com ", memberType: "user", role: "member" });
    expect(added).toEqual({ memberId: "eve", memberType: "user", role: "member" });
    await expect(f.workspaces.addMember(admin, ws.id, { email: "nobody@example.com", memberType: "user", role: "member" })).rejects.toThrow(
      /^No member of this tenant has the email "nobody@example.com"\./,
    );
    // A user of another tenant is answered exactly like an unknown email: no user id, same words.
    const failure = (email: string) =>
      f.workspaces.addMember(admin, ws.id, { email, memberType: "user", role: "member" }).then(
        () => "added",
        (error: Error) => `${error.constructor.name}: ${error.message.replace(email, "<email>")}`,
      );
    expect(await failure("otto@example.com")).toBe(await failure("nobody@example.com"));
    expect(await failure("otto@example.com")).toMatch(/^NotFoundError: /);
    // An unauthorised caller learns nothing about the email.
    await expect(f.workspaces.addMember(f.caller("eve", tenantId), ws.id, { email: "nobody@example.com", memberType: "user", role: "member" })).rejects.toThrow(ForbiddenError);
  });

  it("only grants roles to members of the tenant and groups of the tenant", async () => {
    const ws = await f.workspaces.create(admin, { name: "strict", parentWorkspaceId: rootId });
    await expect(f.workspaces.addMember(admin, ws.id, { memberId: "otto", memberType: "user", role: "member" })).rejects.toThrow(
      "User otto is not a member of this tenant",
    );
    await expect(f.workspaces.addMember(admin, ws.id, { memberId: "01J00000000000000000000000", memberType: "group", role: "member" })).rejects.toThrow(InvalidInputError);
  });

  it("expands group grants to the group's members and admins, and denies a removed member at once", async () => {
    const groupId = "01J0000000000000000000GRP1";
    await f.rows(sql`INSERT INTO groups (id, tenant_id, name) VALUES (${groupId}, ${tenantId}, 'readers')`);
    await f.rows(sql`INSERT INTO group_members (group_id, user_id, role) VALUES (${groupId}, 'eve', 'member')`);
    await f.runtime.unitOfWork.run(async (tx) => {
      tx.record(
        { type: "GroupCreated", tenantId, groupId, occurredAt: new Date() },
        { type: "GroupMemberAdded", tenantId, groupId, userId: "eve", role: "member", occurredAt: new Date() },
      );
    });
    const ws = await f.workspaces.create(admin, { name: "shared", parentWorkspaceId: rootId });
    const eve = f.caller("eve", tenantId);
    await expect(f.workspaces.get(eve, ws.id)).rejects.toThrow(NotFoundError);
    await f.workspaces.addMember(admin, ws.id, { memberId: groupId.toLowerCase(), memberType: "group", role: "editor" });
    expect((await f.workspaces.get(eve, ws.id)).id).toBe(ws.id);
    await expect(f.workspaces.create(eve, { name: "eve's child", parentWorkspaceId: ws.id })).resolves.toBeDefined();
    expect(await f.workspaces.listMembers(eve, ws.id)).toEqual(
      expect.arrayContaining([{ memberId: groupId, memberType: "group", role: "editor" }]),
    );
    await f.workspaces.removeMember(admin, ws.id, { memberId: groupId, memberType: "group" });
    await expect(f.workspaces.get(eve, ws.id)).rejects.toThrow(NotFoundError);
  });

  it("reports through its probe with the observation context beneath its own fields", async () => {
    f.workspaceProbe.clear();
    const context = ObservationContext.of({ requestId: "req-1", tenantId: "spoofed" });
    const ws = await f.workspaces.create(admin, { name: "observed", parentWorkspaceId: rootId }, context);
    const [created] = f.workspaceProbe.named("workspaceCreated");
    expect(created?.fact).toMatchObject({ workspaceId: ws.id, tenantId, creatorId: "ada", isRoot: false });
    expect(created?.context).toMatchObject({ request_id: "req-1", user_id: "ada", tenant_id: tenantId });
    await expect(f.workspaces.get(f.caller("nobody", tenantId), ws.id)).rejects.toThrow(NotFoundError);
    expect(f.workspaceProbe.named("workspaceAccessDenied")).toHaveLength(1);
  });
});
