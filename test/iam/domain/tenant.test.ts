import { describe, expect, it } from "vitest";
import { InvalidInputError, LastAdminError } from "../../../src/iam/domain/errors.js";
import { Tenant } from "../../../src/iam/domain/tenant.js";

const now = new Date("2025-01-02T03:04:05Z");

function stored(members: Record<string, "admin" | "member">): Tenant {
  return Tenant.rehydrate({ id: "01J00000000000000000000001", name: "acme" }, new Map(Object.entries(members)));
}

describe("Tenant", () => {
  it("creates a tenant whose creator is its admin", () => {
    const tenant = Tenant.create({ name: "acme", creatorId: "alice", now });
    expect(tenant.roleOf("alice")).toBe("admin");
    expect(tenant.pullEvents()).toMatchObject([
      { type: "TenantCreated", name: "acme" },
      { type: "TenantMemberAdded", userId: "alice", role: "admin", addedBy: null },
    ]);
  });

  it("creates the default tenant without members", () => {
    const tenant = Tenant.create({ name: "default", creatorId: null, now });
    expect(tenant.memberList()).toEqual([]);
    expect(tenant.pullEvents().map((e) => e.type)).toEqual(["TenantCreated"]);
  });

  it("refuses empty and oversized names", () => {
    expect(() => Tenant.create({ name: "", creatorId: null, now })).toThrow(InvalidInputError);
    expect(() => Tenant.create({ name: "t".repeat(256), creatorId: null, now })).toThrow(/between 1 and 255/);
  });

  it("replaces a role with a removal and an addition, and re-adding the same role is a no-op", () => {
    const tenant = stored({ alice: "admin", bob: "member" });
    expect(tenant.addMember("bob", "admin", "alice", now)).toBe("replaced");
    expect(tenant.pullEvents()).toMatchObject([
      { type: "TenantMemberRemoved", userId: "bob", role: "member", removedBy: "alice" },
      { type: "TenantMemberAdded", userId: "bob", role: "admin", addedBy: "alice" },
    ]);
    expect(tenant.addMember("bob", "admin", "alice", now)).toBe("unchanged");
    expect(tenant.pullEvents()).toEqual([]);
  });

  it("never demotes or removes the last admin", () => {
    const tenant = stored({ alice: "admin", bob: "member" });
    expect(() => tenant.addMember("alice", "member", "alice", now)).toThrow(LastAdminError);
    expect(() => tenant.removeMember("alice", "alice", now)).toThrow("Cannot remove the last admin from the tenant");
    expect(tenant.pullEvents()).toEqual([]);
  });

  it("lets one of two admins go", () => {
    const tenant = stored({ alice: "admin", bob: "admin" });
    expect(tenant.removeMember("alice", "bob", now)).toBe(true);
    // role null removes every tenant role; heldRole is what the audit record shows as before.
    expect(tenant.pullEvents()).toMatchObject([{ type: "TenantMemberRemoved", userId: "alice", role: null, heldRole: "admin" }]);
    expect(tenant.memberChanges()).toEqual({ upserts: [], deletes: ["alice"] });
  });

  it("treats removing a non-member as a no-op", () => {
    const tenant = stored({ alice: "admin" });
    expect(tenant.removeMember("nobody", "alice", now)).toBe(false);
    expect(tenant.pullEvents()).toEqual([]);
  });

  it("snapshots its members when deleted", () => {
    const tenant = stored({ alice: "admin", bob: "member" });
    tenant.markForDeletion(now);
    expect(tenant.pullEvents()).toMatchObject([
      { type: "TenantDeleted", members: [{ userId: "alice", role: "admin" }, { userId: "bob", role: "member" }] },
    ]);
  });
});

describe("a tenant loaded around one member", () => {
  const around = (members: Record<string, "admin" | "member">) =>
    Tenant.rehydrateAround({ id: "01J00000000000000000000001", name: "acme" }, new Map(Object.entries(members)));

  it("applies the last-admin rule from the admins it was loaded with, and writes only that member's row", () => {
    const tenant = around({ ada: "admin", bob: "member" });
    expect(() => tenant.removeMember("ada", null, new Date())).toThrow(LastAdminError);
    expect(tenant.removeMember("bob", null, new Date())).toBe(true);
    expect(tenant.memberChanges()).toEqual({ upserts: [], deletes: ["bob"] });
  });

  it("refuses to answer for the whole member list it did not load", () => {
    expect(() => around({ ada: "admin" }).memberList()).toThrow(/loaded around one member/);
  });
});
