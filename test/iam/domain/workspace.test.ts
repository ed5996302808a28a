import { describe, expect, it } from "vitest";
import { InvalidInputError, LastAdminError } from "../../../src/iam/domain/errors.js";
import { Workspace, deepestFirst } from "../../../src/iam/domain/workspace.js";

const now = new Date("2025-01-02T03:04:05Z");
const later = new Date("2025-01-02T04:00:00Z");
const TENANT = "01J00000000000000000000001";
const PARENT = "01J00000000000000000000002";

function child(name = "docs"): Workspace {
  return Workspace.create({ name, tenantId: TENANT, parentWorkspaceId: PARENT, creatorId: "alice", now });
}

function stored(members: { memberId: string; memberType: "user" | "group"; role: "admin" | "editor" | "member" }[]) {
  return Workspace.rehydrate(
    { id: "01J00000000000000000000009", tenantId: TENANT, name: "w", parentWorkspaceId: PARENT, isRoot: false, createdAt: now, updatedAt: now },
    members,
  );
}

describe("a workspace loaded around one member", () => {
  const around = () =>
    Workspace.rehydrateAround(
      { id: "01J00000000000000000000009", tenantId: TENANT, name: "w", parentWorkspaceId: PARENT, isRoot: false, createdAt: now, updatedAt: now },
      [
        { memberId: "alice", memberType: "user", role: "admin" },
        { memberId: "bob", memberType: "user", role: "editor" },
      ],
    );

  it("lets that member leave under the last-admin rule, which needs only the admins", () => {
    const workspace = around();
    workspace.removeDepartingUser("bob", later);
    expect(workspace.changes().deletes).toEqual([{ memberId: "bob", memberType: "user" }]);
    expect(() => workspace.removeDepartingUser("alice", later)).toThrow(LastAdminError);
  });

  it("refuses what needs every member: the member list and a deletion's snapshot", () => {
    expect(() => around().memberList()).toThrow("loaded around one member");
    expect(() => around().markForDeletion(later)).toThrow("loaded around one member");
  });
});

describe("Workspace", () => {
  it("creates a child whose creator is its admin, recording both facts", () => {
    const workspace = child();
    expect(workspace.isRoot).toBe(false);
    expect(workspace.roleOf("alice", "user")).toBe("admin");
    expect(workspace.pullEvents().map((e) => e.type)).toEqual(["WorkspaceCreated", "WorkspaceMemberAdded"]);
    expect(workspace.pullEvents()).toEqual([]);
  });

  it("creates a root without a parent that lets the tenant create children", () => {
    const root = Workspace.createRoot({ name: "Root", tenantId: TENANT, adminId: null, now });
    expect(root.parentWorkspaceId).toBeNull();
    expect(root.pullEvents().map((e) => e.type)).toEqual(["WorkspaceCreated", "WorkspaceCreatorTenantSet"]);
  });

  it("refuses empty and oversized names and accepts 512 characters", () => {
    expect(() => child("")).toThrow(InvalidInputError);
    expect(() => child("x".repeat(513))).toThrow(/between 1 and 512/);
    expect(child("x".repeat(512)).name).toHaveLength(512);
  });

  it("refuses a root with a parent and a child without one", () => {
    const base = { id: "01J00000000000000000000009", tenantId: TENANT, name: "w", createdAt: now, updatedAt: now };
    expect(() => Workspace.rehydrate({ ...base, parentWorkspaceId: PARENT, isRoot: true }, [])).toThrow(InvalidInputError);
    expect(() => Workspace.rehydrate({ ...base, parentWorkspaceId: null, isRoot: false }, [])).toThrow(InvalidInputError);
  });

  it("treats the same role again as an idempotent success", () => {
    const workspace = stored([{ memberId: "alice", memberType: "user", role: "admin" }]);
    expect(workspace.addMember("alice", "user", "admin", now)).toBe("unchanged");
    expect(workspace.pullEvents()).toEqual([]);
  });

  it("replaces another role rather than holding two", () => {
    const workspace = stored([
      { memberId: "alice", memberType: "user", role: "admin" },
      { memberId: "bob", memberType: "user", role: "member" },
    ]);
    expect(workspace.addMember(" bob ", "user", "editor", now)).toBe("replaced");
    expect(workspace.roleOf("bob", "user")).toBe("editor");
    expect(workspace.pullEvents()).toMatchObject([{ type: "WorkspaceMemberRoleChanged", oldRole: "member", newRole: "editor" }]);
  });

  it("never demotes or removes the only admin, by any route", () => {
    const workspace = stored([{ memberId: "alice", memberType: "user", role: "admin" }]);
    expect(() => workspace.addMember("alice", "user", "member", now)).toThrow(LastAdminError);
    expect(() => workspace.changeMemberRole("alice", "user", "editor", now)).toThrow(LastAdminError);
    expect(() => workspace.removeMember("alice", "user", now)).toThrow(LastAdminError);
    expect(workspace.pullEvents()).toEqual([]);
  });

  it("lets a user leaving the tenant go, unless they are the only admin, which the refusal names", () => {
    const workspace = stored([
      { memberId: "alice", memberType: "user", role: "admin" },
      { memberId: "bob", memberType: "user", role: "editor" },
    ]);
    workspace.removeDepartingUser("bob", later);
    expect(workspace.pullEvents().map((e) => e.type)).toEqual(["WorkspaceMemberRemoved"]);
    expect(() => workspace.removeDepartingUser("alice", later)).toThrow(
      new LastAdminError("Cannot remove the user from the tenant: they are the last admin of workspace 'w'"),
    );
  });

  it("counts a group's admin entry as an admin", () => {
    const workspace = stored([
      { memberId: "alice", memberType: "user", role: "admin" },
      { memberId: "01J0000000000000000000000G", memberType: "group", role: "admin" },
    ]);
    workspace.removeMember("alice", "user", now);
    expect(workspace.isSoleAdmin("01J0000000000000000000000G", "group")).toBe(true);
  });

  it("tells users and groups with the same id apart", () => {
    const workspace = stored([{ memberId: "x", memberType: "user", role: "admin" }]);
    expect(() => workspace.removeMember("x", "group", now)).toThrow("group x is not a member of this workspace");
  });

  it("refuses blank member ids and a role change to the same role", () => {
    const workspace = stored([{ memberId: "alice", memberType: "user", role: "admin" }]);
    expect(() => workspace.addMember("  ", "user", "member", now)).toThrow("member_id cannot be empty");
    expect(() => workspace.changeMemberRole("alice", "user", "admin", now)).toThrow("Member already has role admin");
  });

  it("renames with a fresh updated_at, but not to the same name", () => {
    const workspace = stored([]);
    workspace.rename("new", later);
    expect(workspace.snapshot().updatedAt).toEqual(later);
    expect(workspace.changes().renamed).toBe(true);
    expect(() => workspace.rename("new", later)).toThrow("New name is the same as current name");
  });

  it("reports member row changes since it was loaded", () => {
    const workspace = stored([
      { memberId: "alice", memberType: "user", role: "admin" },
      { memberId: "bob", memberType: "user", role: "member" },
    ]);
    workspace.addMember("carol", "user", "editor", now);
    workspace.removeMember("bob", "user", now);
    expect(() => workspace.changeMemberRole("alice", "user", "editor", now)).toThrow(LastAdminError);
    const changes = workspace.changes();
    expect(changes.upserts).toEqual(expect.arrayContaining([{ memberId: "carol", memberType: "user", role: "editor" }]));
    expect(changes.deletes).toEqual([{ memberId: "bob", memberType: "user" }]);
  });

  it("snapshots its members when deleted", () => {
    const workspace = stored([{ memberId: "alice", memberType: "user", role: "admin" }]);
    workspace.markForDeletion(now);
    expect(workspace.pullEvents()).toMatchObject([
      { type: "WorkspaceDeleted", members: [{ memberId: "alice", memberType: "user", role: "admin" }], isRoot: false },
    ]);
  });

  it("orders a tree deepest first", () => {
    const tree = [
      { id: "root", parentWorkspaceId: null },
      { id: "a", parentWorkspaceId: "root" },
      { id: "b", parentWorkspaceId: "a" },
      { id: "c", parentWorkspaceId: "b" },
      { id: "d", parentWorkspaceId: "root" },
    ];
    const order = deepestFirst(tree).map((w) => w.id);
    for (const w of tree) {
      if (w.parentWorkspaceId) expect(order.indexOf(w.id)).toBeLessThan(order.indexOf(w.parentWorkspaceId));
    }
  });
});
