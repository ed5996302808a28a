import { describe, expect, it } from "vitest";
import { ConflictError, InvalidInputError, LastAdminError } from "../../../src/iam/domain/errors.js";
import { DIRECTORY_OWNS_MEMBERS, Group } from "../../../src/iam/domain/group.js";
import { nameOf } from "../../../src/iam/domain/names.js";
import type { GroupWorkspaceGrant } from "../../../src/iam/domain/group-workspace-grant.js";

const NOW = new Date("2025-01-02T03:04:05.000Z");
const TENANT = "01J00000000000000000000001";
const GROUP = "01J00000000000000000000002";

function created(name = "ops"): Group {
  const group = Group.create({ id: GROUP, tenantId: TENANT, name, creatorId: "alice", now: NOW });
  group.pullEvents();
  return group;
}

function stored(members: { userId: string; role: "admin" | "member" }[]): Group {
  return Group.restore({ id: GROUP, tenantId: TENANT, name: "ops", members });
}

const grant = (workspaceId: string, role: GroupWorkspaceGrant["role"], otherAdminCount: number): GroupWorkspaceGrant => ({
  workspaceId,
  workspaceName: `ws-${workspaceId}`,
  role,
  otherAdminCount,
});

describe("group name", () => {
  const groupNameOf = (raw: string) => nameOf("Group", raw);

  it("is trimmed", () => {
    expect(groupNameOf("  ops team \n")).toBe("ops team");
  });

  it("must have 1 to 255 characters after trimming", () => {
    expect(() => groupNameOf("   ")).toThrow(InvalidInputError);
    expect(() => groupNameOf("")).toThrow("Group name cannot be empty or whitespace-only");
    expect(groupNameOf("x".repeat(255))).toHaveLength(255);
    expect(() => groupNameOf("x".repeat(256))).toThrow(InvalidInputError);
  });

  it("counts characters, not UTF-16 units", () => {
    const emoji = "😀".repeat(255);
    expect(groupNameOf(emoji)).toBe(emoji);
    expect(() => groupNameOf(`${emoji}😀`)).toThrow(InvalidInputError);
  });
});

describe("Group.create", () => {
  it("makes the creator the first admin and records GroupCreated then GroupMemberAdded", () => {
    const group = Group.create({ id: GROUP, tenantId: TENANT, name: "  ops ", creatorId: "alice", now: NOW });
    expect(group.name).toBe("ops");
    expect(group.memberList).toEqual([{ userId: "alice", role: "admin" }]);
    expect(group.pullEvents()).toEqual([
      { type: "GroupCreated", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, name: "ops" },
      { type: "GroupMemberAdded", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, userId: "alice", role: "admin" },
    ]);
    expect(group.pullEvents()).toEqual([]);
  });

  it("refuses a blank name", () => {
    expect(() => Group.create({ id: GROUP, tenantId: TENANT, name: " ", creatorId: "alice", now: NOW })).toThrow(
      InvalidInputError,
    );
  });

  it("reports the whole group as changed so that it gets inserted", () => {
    const group = Group.create({ id: GROUP, tenantId: TENANT, name: "ops", creatorId: "alice", now: NOW });
    expect(group.nameChanged).toBe(true);
    expect(group.memberChanges()).toEqual({ upserted: [{ userId: "alice", role: "admin" }], removed: [] });
  });
});

describe("Group.restore", () => {
  it("records nothing and reports no changes", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    expect(group.pullEvents()).toEqual([]);
    expect(group.nameChanged).toBe(false);
    expect(group.memberChanges()).toEqual({ upserted: [], removed: [] });
  });

  it("lists admins first, then members, each by user id", () => {
    const group = stored([
      { userId: "zed", role: "member" },
      { userId: "bob", role: "admin" },
      { userId: "amy", role: "member" },
      { userId: "al", role: "admin" },
    ]);
    expect(group.memberList.map((m) => m.userId)).toEqual(["al", "bob", "amy", "zed"]);
  });
});

describe("Group.rename", () => {
  it("changes the name, trimmed, and records GroupRenamed", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    const at = new Date("2026-03-04T05:06:07Z");
    const previousName = group.name;
    group.rename("  platform ", at);
    expect(group.name).toBe("platform");
    expect(group.nameChanged).toBe(true);
    expect(group.pullEvents()).toEqual([{ type: "GroupRenamed", tenantId: group.tenantId, occurredAt: at, groupId: group.id, name: "platform", previousName }]);
  });

  it("to the current name changes nothing and records nothing", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    group.rename(" ops ", new Date());
    expect(group.nameChanged).toBe(false);
    expect(group.pullEvents()).toEqual([]);
  });

  it("refuses an invalid name and keeps the old one", () => {
    const group = created();
    expect(() => group.rename("x".repeat(256), new Date())).toThrow(InvalidInputError);
    expect(group.name).toBe("ops");
  });
});

describe("Group.addMember", () => {
  it("adds a new member and records GroupMemberAdded", () => {
    const group = created();
    expect(group.addMember("bob", "member", NOW)).toBe("added");
    expect(group.roleOf("bob")).toBe("member");
    expect(group.pullEvents()).toEqual([
      { type: "GroupMemberAdded", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, userId: "bob", role: "member" },
    ]);
  });

  it("with the same role again is an idempotent no-op", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    expect(group.addMember("alice", "admin", NOW)).toBe("unchanged");
    expect(group.pullEvents()).toEqual([]);
    expect(group.memberChanges()).toEqual({ upserted: [], removed: [] });
  });

  it("with another role replaces the role (one role per member)", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    expect(group.addMember("bob", "admin", NOW)).toBe("role_changed");
    expect(group.memberList).toEqual([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "admin" },
    ]);
    expect(group.pullEvents()).toEqual([
      {
        type: "GroupMemberRoleChanged",
        tenantId: TENANT,
        occurredAt: NOW,
        groupId: GROUP,
        userId: "bob",
        oldRole: "member",
        newRole: "admin",
      },
    ]);
    expect(group.memberChanges()).toEqual({ upserted: [{ userId: "bob", role: "admin" }], removed: [] });
  });

  it("refuses to demote the last admin through a role replacement", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    expect(() => group.addMember("alice", "member", NOW)).toThrow(LastAdminError);
    expect(group.roleOf("alice")).toBe("admin");
    expect(group.pullEvents()).toEqual([]);
  });
});

describe("Group.changeMemberRole", () => {
  it("promotes and demotes while another admin remains", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    group.changeMemberRole("bob", "admin", NOW);
    group.changeMemberRole("alice", "member", NOW);
    expect(group.memberList).toEqual([
      { userId: "bob", role: "admin" },
      { userId: "alice", role: "member" },
    ]);
    expect(group.pullEvents().map((e) => e.type)).toEqual(["GroupMemberRoleChanged", "GroupMemberRoleChanged"]);
  });

  it("to the role already held succeeds without an event", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    group.changeMemberRole("alice", "admin", NOW);
    expect(group.pullEvents()).toEqual([]);
  });

  it("refuses to demote the last admin", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    expect(() => group.changeMemberRole("alice", "member", NOW)).toThrow(
      "Cannot demote the last admin. Promote another member first.",
    );
  });

  it("refuses a user who is not a member", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    expect(() => group.changeMemberRole("carol", "admin", NOW)).toThrow(InvalidInputError);
    expect(() => group.changeMemberRole("carol", "admin", NOW)).toThrow("User carol is not a member of this group");
  });
});

describe("Group.removeMember", () => {
  it("removes a member and records their role", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    group.removeMember("bob", NOW);
    expect(group.roleOf("bob")).toBeNull();
    expect(group.pullEvents()).toEqual([
      { type: "GroupMemberRemoved", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, userId: "bob", role: "member" },
    ]);
    expect(group.memberChanges()).toEqual({ upserted: [], removed: ["bob"] });
  });

  it("removes an admin while another admin remains", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "admin" },
    ]);
    group.removeMember("alice", NOW);
    expect(group.memberList).toEqual([{ userId: "bob", role: "admin" }]);
  });

  it("refuses to remove the last admin", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    expect(() => group.removeMember("alice", NOW)).toThrow(LastAdminError);
    expect(() => group.removeMember("alice", NOW)).toThrow("Cannot remove the last admin. Promote another member first.");
    expect(group.roleOf("alice")).toBe("admin");
  });

  it("refuses a user who is not a member", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    expect(() => group.removeMember("carol", NOW)).toThrow(InvalidInputError);
  });
});

describe("Group.markDeleted", () => {
  it("records one WorkspaceMemberRemoved per grant, then GroupDeleted with a member snapshot", () => {
    const group = stored([
      { userId: "bob", role: "member" },
      { userId: "alice", role: "admin" },
    ]);
    group.markDeleted([grant("W1", "editor", 0), grant("W2", "admin", 1)], NOW);
    expect(group.isDeleted).toBe(true);
    expect(group.pullEvents()).toEqual([
      {
        type: "WorkspaceMemberRemoved",
        tenantId: TENANT,
        occurredAt: NOW,
        workspaceId: "W1",
        memberId: GROUP,
        memberType: "group",
        role: "editor",
      },
      {
        type: "WorkspaceMemberRemoved",
        tenantId: TENANT,
        occurredAt: NOW,
        workspaceId: "W2",
        memberId: GROUP,
        memberType: "group",
        role: "admin",
      },
      {
        type: "GroupDeleted",
        tenantId: TENANT,
        occurredAt: NOW,
        groupId: GROUP,
        name: group.name,
        members: [
          { userId: "alice", role: "admin" },
          { userId: "bob", role: "member" },
        ],
      },
    ]);
  });

  it("without grants records only GroupDeleted", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    group.markDeleted([], NOW);
    expect(group.pullEvents().map((e) => e.type)).toEqual(["GroupDeleted"]);
  });

  it("is refused when the group is the only admin of a workspace, naming the workspace", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    const attempt = () => group.markDeleted([grant("W1", "editor", 0), grant("W2", "admin", 0)], NOW);
    expect(attempt).toThrow(LastAdminError);
    expect(attempt).toThrow(/last admin of workspace 'ws-W2' \(W2\)/);
    expect(group.isDeleted).toBe(false);
    expect(group.pullEvents()).toEqual([]);
  });

  it("names at most five workspaces when refusing", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    const grants = Array.from({ length: 8 }, (_, i) => grant(`W${i}`, "admin", 0));
    expect(() => group.markDeleted(grants, NOW)).toThrow(/\(W4\) and 3 more/);
  });
});

describe("a member leaving the tenant", () => {
  it("leaves the group, unless they are its last admin, which the refusal names", () => {
    const group = stored([
      { userId: "alice", role: "admin" },
      { userId: "bob", role: "member" },
    ]);
    group.removeDepartingMember("bob", NOW);
    expect(group.pullEvents()).toEqual([{ type: "GroupMemberRemoved", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, userId: "bob", role: "member" }]);
    expect(() => group.removeDepartingMember("alice", NOW)).toThrow(new LastAdminError("Cannot remove the user from the tenant: they are the last admin of group 'ops'"));
    group.removeDepartingMember("nobody", NOW);
    expect(group.pullEvents()).toEqual([]);
    expect(group.roleOf("alice")).toBe("admin");
  });
});

describe("a group loaded around one member", () => {
  const around = () =>
    Group.restoreAround({ id: GROUP, tenantId: TENANT, name: "ops", members: [{ userId: "alice", role: "admin" }, { userId: "bob", role: "member" }] });

  it("lets that member leave under the last-admin rule, which needs only the admins", () => {
    const group = around();
    group.removeDepartingMember("bob", NOW);
    expect(group.memberChanges()).toEqual({ upserted: [], removed: ["bob"] });
    expect(() => group.removeDepartingMember("alice", NOW)).toThrow(LastAdminError);
  });

  it("refuses what needs every member: the member list, a deletion's snapshot, a directory's member list", () => {
    expect(() => around().memberList).toThrow("loaded around one member");
    expect(() => around().markDeletedWithTenant(NOW)).toThrow("loaded around one member");
    const directory = Group.restoreAround({ id: GROUP, tenantId: TENANT, name: "ops", directoryManaged: true, members: [] });
    expect(() => directory.setDirectoryMembers(["bob"], NOW)).toThrow("loaded around one member");
  });
});

describe("deletion with the tenant", () => {
  it("records GroupDeleted with the members, whatever their roles", () => {
    const group = stored([{ userId: "alice", role: "admin" }]);
    group.markDeletedWithTenant(NOW);
    expect(group.isDeleted).toBe(true);
    expect(group.pullEvents()).toEqual([
      { type: "GroupDeleted", tenantId: TENANT, occurredAt: NOW, groupId: GROUP, name: "ops", members: [{ userId: "alice", role: "admin" }] },
    ]);
  });
});

describe("a directory's group", () => {
  const now = new Date("2026-12-04T12:00:00Z");
  const directoryGroup = () => Group.createForDirectory({ id: "01J00000000000000000000009", tenantId: "01J00000000000000000000001", name: "eng", now });

  it("starts without an admin and takes the directory's member list as it is, as members", () => {
    const group = directoryGroup();
    group.setDirectoryMembers(["ann", "bo"], now);
    expect(group.memberList).toEqual([
      { userId: "ann", role: "member" },
      { userId: "bo", role: "member" },
    ]);
    group.pullEvents();
    group.setDirectoryMembers(["bo", "cy"], now);
    expect(group.pullEvents().map((event) => [event.type, "userId" in event ? event.userId : null])).toEqual([
      ["GroupMemberRemoved", "ann"],
      ["GroupMemberAdded", "cy"],
    ]);
  });

  it("refuses membership changes from anyone but the directory, saying why", () => {
    const group = directoryGroup();
    group.setDirectoryMembers(["ann"], now);
    expect(() => group.addMember("bo", "admin", now)).toThrow(DIRECTORY_OWNS_MEMBERS);
    expect(() => group.changeMemberRole("ann", "admin", now)).toThrow(ConflictError);
    expect(() => group.removeMember("ann", now)).toThrow(ConflictError);
    // Leaving the tenant still takes a member out of it.
    group.removeDepartingMember("ann", now);
    expect(group.memberList).toEqual([]);
  });

  it("is the only kind of group the directory may set members of", () => {
    const own = Group.create({ id: "01J00000000000000000000008", tenantId: "01J00000000000000000000001", name: "own", creatorId: "ada", now });
    expect(() => own.setDirectoryMembers(["ann"], now)).toThrow(/not a directory's group/);
  });
});
