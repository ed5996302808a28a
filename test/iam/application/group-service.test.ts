import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Caller } from "../../../src/iam/application/caller.js";
import { GroupService } from "../../../src/iam/application/group-service.js";
import { ConflictError, ForbiddenError, InvalidInputError, LastAdminError, NotFoundError } from "../../../src/iam/domain/errors.js";
import type { IamEvent } from "../../../src/iam/domain/events.js";
import { KeptGroupLists } from "../../../src/iam/infrastructure/kept-group-lists.js";
import { createRepositories } from "../../../src/iam/infrastructure/repositories.js";
import { createOutboxRuntime } from "../../../src/outbox-runtime.js";
import { loadConfig } from "../../../src/platform/config/config.js";
import { queryRows } from "../../../src/platform/database/database.js";
import { createLogger } from "../../../src/platform/logging/logger.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import type { AuthorizationPort } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../../src/shared-kernel/ids.js";
import { ObservationContext } from "../../../src/shared-kernel/observation-context.js";
import { RecordingUnitOfWork } from "../../support/recording-unit-of-work.js";
import { RecordingGroupServiceProbe } from "../../support/recording-probes.js";
import { seedTenant, seedTenantMember, seedUser, seedWorkspace, seedWorkspaceMember } from "../../support/sql-seed.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

const NOW = new Date("2025-01-02T03:04:05.000Z");
const CONFIG = loadConfig({ LOG_LEVEL: "silent", KARTOGRAPH_OUTBOX_MAX_RETRIES: "3" });
const LOGGER = createLogger("silent", { pretty: false });

describe.each(TEST_DATABASE_KINDS)("GroupService on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let authorization: AuthorizationPort;
  let unitOfWork: RecordingUnitOfWork;
  let probe: RecordingGroupServiceProbe;
  let service: GroupService;
  let tenantId: string;
  /** Callers of the tenant: a tenant admin, three plain members, and a member of two tenants. */
  let admin: Caller, alice: Caller, bob: Caller, carol: Caller;
  let outsider: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind, { poolMax: 4 });
    spicedb = await startTestSpiceDb();
  });
  afterAll(async () => {
    await spicedb?.close();
    await database?.dispose();
  });

  const callerOf = (userId: string, tenant = tenantId): Caller => ({
    userId,
    username: userId,
    apiKeyId: null,
    apiKeyTenantId: null,
    tenantId: tenant,
  });

  beforeEach(async () => {
    const db = database.handle.db;
    // The outbox runtime `serve` uses (unit of work, relationship sync, decision cache), without its worker.
    const runtime = await createOutboxRuntime(CONFIG, database.handle, spicedb, LOGGER, { listen: false, dispatcher: { backoff: { baseMs: 1, maxMs: 5 } } });
    unitOfWork = new RecordingUnitOfWork(runtime.unitOfWork);
    authorization = runtime.authorization;
    probe = new RecordingGroupServiceProbe();
    service = new GroupService({ unitOfWork, repositories: createRepositories(db), authorization, probe, clock: () => NOW });
    tenantId = await seedTenant(db);
    const suffix = tenantId.slice(-8);
    const ids = { admin: `admin-${suffix}`, alice: `alice-${suffix}`, bob: `bob-${suffix}`, carol: `carol-${suffix}` };
    await seedTenantMember(db, tenantId, ids.admin, { role: "admin" });
    await seedTenantMember(db, tenantId, ids.alice, { email: `Alice.${suffix}@Example.com` });
    await seedTenantMember(db, tenantId, ids.bob);
    await seedTenantMember(db, tenantId, ids.carol);
    outsider = await seedUser(db, `outsider-${suffix}`, `outsider.${suffix}@example.com`);
    // Tenant roles reach SpiceDB through the tenancy service's events; here the events are seeded.
    await unitOfWork.seed({ type: "TenantMemberAdded", tenantId, occurredAt: NOW, userId: ids.admin, role: "admin", addedBy: null });
    admin = callerOf(ids.admin);
    alice = callerOf(ids.alice);
    bob = callerOf(ids.bob);
    carol = callerOf(ids.carol);
  });

  const canOn = (type: string, id: string, permission: string, userId: string) =>
    authorization.check({ resource: { type, id }, permission, subject: { type: "user", id: userId } });

  const grantEvent = (workspaceId: string, groupId: string, role: "admin" | "editor" | "member"): IamEvent => ({
    type: "WorkspaceMemberAdded",
    tenantId,
    occurredAt: NOW,
    workspaceId,
    memberId: groupId,
    memberType: "group",
    role,
  });

  async function grantToGroup(groupId: string, role: "admin" | "editor" | "member", workspaceId?: string): Promise<string> {
    const workspace = workspaceId ?? (await seedWorkspace(database.handle.db, tenantId));
    await seedWorkspaceMember(database.handle.db, workspace, { type: "group", id: groupId }, role);
    await unitOfWork.seed(grantEvent(workspace, groupId, role));
    return workspace;
  }

  describe("createGroup", () => {
    it("creates the group with the caller as admin and records its events", async () => {
      const group = await service.createGroup(alice, "  Platform  ", ObservationContext.of({ requestId: "req-1" }));
      expect(group.name).toBe("Platform");
      expect(group.members).toEqual([{ userId: alice.userId, role: "admin" }]);
      expect(unitOfWork.committed.map((e) => e.type)).toEqual(["GroupCreated", "GroupMemberAdded"]);
      expect(probe.calls).toEqual([
        {
          name: "groupCreated",
          fact: { groupId: group.id, groupName: "Platform" },
          context: { request_id: "req-1", user_id: alice.userId, tenant_id: tenantId },
        },
      ]);
      expect(await canOn("group", group.id, "manage", alice.userId)).toBe(true);
    });

    it("refuses a name the tenant already uses", async () => {
      await service.createGroup(alice, "ops");
      await expect(service.createGroup(bob, " ops ")).rejects.toThrow(ConflictError);
      expect(unitOfWork.committed.filter((e) => e.type === "GroupCreated")).toHaveLength(1);
    });

    it("refuses a blank or too long name", async () => {
      await expect(service.createGroup(alice, "   ")).rejects.toThrow(InvalidInputError);
      await expect(service.createGroup(alice, "x".repeat(256))).rejects.toThrow(InvalidInputError);
    });
  });

  describe("visibility", () => {
    it("lists a group to its members and admins and to tenant admins, not to other tenant members", async () => {
      const group = await service.createGroup(alice, "visible");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      const names = async (caller: Caller) => (await service.listGroups(caller)).map((g) => g.name);
      expect(await names(alice)).toEqual(["visible"]);
      expect(await names(bob)).toEqual(["visible"]);
      expect(await names(admin)).toEqual(["visible"]);
      expect(await names(carol)).toEqual([]);
      const listed = await service.listGroups(admin);
      expect(listed[0]?.members).toEqual([
        { userId: alice.userId, role: "admin" },
        { userId: bob.userId, role: "member" },
      ]);
    });

    it("answers not found for a group the caller cannot view, on reads and writes alike", async () => {
      const group = await service.createGroup(alice, "hidden");
      await expect(service.getGroup(carol, group.id)).rejects.toThrow(NotFoundError);
      await expect(service.listMembers(carol, group.id)).rejects.toThrow(NotFoundError);
      await expect(service.renameGroup(carol, group.id, "x")).rejects.toThrow(NotFoundError);
      await expect(service.deleteGroup(carol, group.id)).rejects.toThrow(NotFoundError);
      await expect(service.addMember(carol, group.id, { userId: carol.userId }, "admin")).rejects.toThrow(NotFoundError);
      await expect(service.changeMemberRole(carol, group.id, alice.userId, "member")).rejects.toThrow(NotFoundError);
      await expect(service.removeMember(carol, group.id, alice.userId)).rejects.toThrow(NotFoundError);
      expect(probe.names()).not.toContain("groupAccessDenied");
    });

    it("answers not found for a missing group", async () => {
      const missing = newUlid();
      await expect(service.getGroup(alice, missing)).rejects.toThrow("Group not found");
      await expect(service.deleteGroup(alice, missing)).rejects.toThrow(NotFoundError);
    });

    it("treats a group of another tenant as missing, even for someone who may view it", async () => {
      const group = await service.createGroup(alice, "home");
      const otherTenant = await seedTenant(database.handle.db);
      await seedTenantMember(database.handle.db, otherTenant, alice.userId);
      const elsewhere = callerOf(alice.userId, otherTenant);
      await expect(service.getGroup(elsewhere, group.id)).rejects.toThrow(NotFoundError);
      await expect(service.listMembers(elsewhere, group.id)).rejects.toThrow(NotFoundError);
      await expect(service.renameGroup(elsewhere, group.id, "moved")).rejects.toThrow(NotFoundError);
      await expect(service.deleteGroup(elsewhere, group.id)).rejects.toThrow(NotFoundError);
      expect(await service.listGroups(elsewhere)).toEqual([]);
      expect((await service.getGroup(alice, group.id)).name).toBe("home");
    });

    it("lists a tenant admin every group of their tenant and none of another tenant they administer", async () => {
      await service.createGroup(alice, "home-a");
      await service.createGroup(bob, "home-b");
      const otherTenant = await seedTenant(database.handle.db);
      await seedTenantMember(database.handle.db, otherTenant, admin.userId, { role: "admin" });
      await unitOfWork.seed({ type: "TenantMemberAdded", tenantId: otherTenant, occurredAt: NOW, userId: admin.userId, role: "admin", addedBy: null });
      const adminThere = callerOf(admin.userId, otherTenant);
      await service.createGroup(adminThere, "away");
      expect((await service.listGroups(admin)).map((g) => g.name)).toEqual(["home-a", "home-b"]);
      expect((await service.listGroups(adminThere)).map((g) => g.name)).toEqual(["away"]);
    });

    it("forbids changes to those who can view but not manage: members and tenant admins", async () => {
      const group = await service.createGroup(alice, "guarded");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      for (const caller of [bob, admin]) {
        await expect(service.renameGroup(caller, group.id, "taken over")).rejects.toThrow(ForbiddenError);
        await expect(service.deleteGroup(caller, group.id)).rejects.toThrow(
          `User ${caller.userId} lacks manage permission on group ${group.id}`,
        );
        await expect(service.addMember(caller, group.id, { userId: carol.userId }, "member")).rejects.toThrow(ForbiddenError);
        expect((await service.getGroup(caller, group.id)).name).toBe("guarded");
        expect(await service.listMembers(caller, group.id)).toHaveLength(2);
      }
      expect(probe.named("groupAccessDenied")).toHaveLength(6);
      expect((await service.getGroup(alice, group.id)).members).toHaveLength(2);
    });
  });

  describe("listGroups with kept lists", () => {
    it("shows a tenant admin every change of the tenant's groups at once, the kept list meanwhile", async () => {
      const keptLists = new KeptGroupLists();
      const listing = new GroupService({ unitOfWork, repositories: createRepositories(database.handle.db, kind, { keptGroupLists: keptLists }), authorization, probe });
      const names = async () => (await listing.listGroups(admin)).map((g) => `${g.name}:${g.members.map((m) => `${m.userId}=${m.role}`).join(",")}`);
      const group = await service.createGroup(alice, "tracked");
      let before = await names();
      expect(await names()).toEqual(before);
      const hits = keptLists.stats().hits;
      expect(hits).toBeGreaterThan(0);
      // The very list the repository keeps: the route serializes each kept list once.
      expect(await listing.listGroups(admin)).toBe(await listing.listGroups(admin));
      const changes: (() => Promise<unknown>)[] = [
        () => service.renameGroup(alice, group.id, "tracked-renamed"),
        () => service.addMember(alice, group.id, { userId: bob.userId }, "member"),
        () => service.changeMemberRole(alice, group.id, bob.userId, "admin"),
        () => service.removeMember(alice, group.id, bob.userId),
        () => service.createGroup(carol, "another"),
        () => service.deleteGroup(alice, group.id),
      ];
      for (const change of changes) {
        await change();
        const after = await names();
        expect(after).not.toEqual(before);
        before = after;
      }
      expect((await listing.listGroups(admin)).map((g) => g.name)).toEqual(["another"]);
      // Plain members see what they can view, looked up every time.
      expect((await listing.listGroups(carol)).map((g) => g.name)).toEqual(["another"]);
      expect(await listing.listGroups(bob)).toEqual([]);
    });
  });

  describe("renameGroup", () => {
    it("renames, and renaming to the current name succeeds without a change", async () => {
      const group = await service.createGroup(alice, "before");
      expect((await service.renameGroup(alice, group.id, " after ")).name).toBe("after");
      expect((await service.renameGroup(alice, group.id, "after")).name).toBe("after");
      expect((await service.getGroup(alice, group.id)).name).toBe("after");
      expect(probe.names().filter((n) => n === "groupRenamed")).toHaveLength(1);
    });

    it("refuses a name another group of the tenant has", async () => {
      await service.createGroup(alice, "first");
      const second = await service.createGroup(alice, "second");
      await expect(service.renameGroup(alice, second.id, "first")).rejects.toThrow(ConflictError);
      expect((await service.getGroup(alice, second.id)).name).toBe("second");
    });
  });

  describe("addMember", () => {
    it("adds a member of the tenant by user id, and the same role again is an idempotent success", async () => {
      const group = await service.createGroup(alice, "team");
      unitOfWork.committed.length = 0;
      expect(await service.addMember(alice, group.id, { userId: bob.userId }, "member")).toEqual({
        userId: bob.userId,
        role: "member",
      });
      expect(await service.addMember(alice, group.id, { userId: ` ${bob.userId} ` }, "member")).toEqual({
        userId: bob.userId,
        role: "member",
      });
      expect(unitOfWork.committed.map((e) => e.type)).toEqual(["GroupMemberAdded"]);
      expect(probe.names().filter((n) => n === "memberAdded")).toHaveLength(1);
      expect(await canOn("group", group.id, "view", bob.userId)).toBe(true);
    });

    it("adds by email, case-insensitively", async () => {
      const group = await service.createGroup(bob, "by-email");
      const suffix = tenantId.slice(-8);
      const added = await service.addMember(bob, group.id, { email: `  ALICE.${suffix}@example.COM ` }, "admin");
      expect(added).toEqual({ userId: alice.userId, role: "admin" });
      expect(await canOn("group", group.id, "manage", alice.userId)).toBe(true);
    });

    it("replaces another role (one role per member)", async () => {
      const group = await service.createGroup(alice, "roles");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      await service.addMember(alice, group.id, { userId: bob.userId }, "admin");
      expect((await service.getGroup(alice, group.id)).members).toEqual([
        { userId: alice.userId, role: "admin" },
        { userId: bob.userId, role: "admin" },
      ]);
      expect(await canOn("group", group.id, "manage", bob.userId)).toBe(true);
    });

    it("refuses to demote the last admin by re-adding them as member", async () => {
      const group = await service.createGroup(alice, "solo");
      await expect(service.addMember(alice, group.id, { userId: alice.userId }, "member")).rejects.toThrow(LastAdminError);
      expect(probe.names()).toContain("lastAdminProtected");
      expect((await service.getGroup(alice, group.id)).members).toEqual([{ userId: alice.userId, role: "admin" }]);
    });

    it("refuses users outside the tenant, whether they exist or not, by id and by email", async () => {
      const group = await service.createGroup(alice, "closed");
      await expect(service.addMember(alice, group.id, { userId: outsider }, "member")).rejects.toThrow(
        `User ${outsider} is not a member of this tenant`,
      );
      await expect(service.addMember(alice, group.id, { userId: "nobody-at-all" }, "member")).rejects.toThrow(InvalidInputError);
      await expect(
        service.addMember(alice, group.id, { email: `outsider.${tenantId.slice(-8)}@example.com` }, "member"),
      ).rejects.toThrow(NotFoundError);
      await expect(service.addMember(alice, group.id, { email: "unknown@example.com" }, "member")).rejects.toThrow(
        /No member of this tenant has the email "unknown@example.com"/,
      );
      await expect(service.addMember(alice, group.id, { userId: "   " }, "member")).rejects.toThrow("Invalid user ID format");
      expect((await service.getGroup(alice, group.id)).members).toHaveLength(1);
    });

    it("checks the permission before looking anyone up", async () => {
      const group = await service.createGroup(alice, "private");
      await expect(service.addMember(carol, group.id, { email: "unknown@example.com" }, "member")).rejects.toThrow(
        "Group not found",
      );
    });

    it("refuses an email that several members share", async () => {
      const group = await service.createGroup(alice, "twins");
      await seedTenantMember(database.handle.db, tenantId, `twin-a-${tenantId}`, { email: `twin@${tenantId}.test` });
      await seedTenantMember(database.handle.db, tenantId, `twin-b-${tenantId}`, { email: `TWIN@${tenantId}.test` });
      await expect(service.addMember(alice, group.id, { email: `twin@${tenantId}.test` }, "member")).rejects.toThrow(ConflictError);
    });
  });

  describe("changeMemberRole and removeMember", () => {
    it("promotes, demotes and removes while an admin remains", async () => {
      const group = await service.createGroup(alice, "crew");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      await service.changeMemberRole(alice, group.id, bob.userId, "admin");
      await service.changeMemberRole(bob, group.id, alice.userId, "member");
      expect(await canOn("group", group.id, "manage", alice.userId)).toBe(false);
      await service.removeMember(bob, group.id, alice.userId);
      expect((await service.getGroup(bob, group.id)).members).toEqual([{ userId: bob.userId, role: "admin" }]);
      expect(await canOn("group", group.id, "view", alice.userId)).toBe(false);
      expect(probe.names()).toEqual(
        expect.arrayContaining(["memberRoleChanged", "memberRemoved"]),
      );
    });

    it("setting the role already held succeeds without an event", async () => {
      const group = await service.createGroup(alice, "steady");
      unitOfWork.committed.length = 0;
      expect(await service.changeMemberRole(alice, group.id, alice.userId, "admin")).toEqual({
        userId: alice.userId,
        role: "admin",
      });
      expect(unitOfWork.committed).toEqual([]);
    });

    it("refuses to demote or remove the last admin (409) and names no-members as bad input", async () => {
      const group = await service.createGroup(alice, "last");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      await expect(service.changeMemberRole(alice, group.id, alice.userId, "member")).rejects.toThrow(LastAdminError);
      await expect(service.removeMember(alice, group.id, alice.userId)).rejects.toThrow(
        "Cannot remove the last admin. Promote another member first.",
      );
      await expect(service.removeMember(alice, group.id, carol.userId)).rejects.toThrow(
        `User ${carol.userId} is not a member of this group`,
      );
      await expect(service.changeMemberRole(alice, group.id, carol.userId, "admin")).rejects.toThrow(InvalidInputError);
      expect(await canOn("group", group.id, "manage", alice.userId)).toBe(true);
    });
  });

  describe("workspace access through the group", () => {
    it("is inherited by a new member at once and lost at once on removal", async () => {
      const group = await service.createGroup(alice, "editors");
      const workspace = await grantToGroup(group.id, "editor");
      expect(await canOn("workspace", workspace, "edit", bob.userId)).toBe(false);
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      expect(await canOn("workspace", workspace, "edit", bob.userId)).toBe(true);
      expect(await canOn("workspace", workspace, "edit", alice.userId)).toBe(true);
      await service.removeMember(alice, group.id, bob.userId);
      expect(await canOn("workspace", workspace, "edit", bob.userId)).toBe(false);
    });
  });

  describe("deleteGroup", () => {
    it("removes the group, its members and its workspace grants, in rows and relationships", async () => {
      const group = await service.createGroup(alice, "doomed");
      await service.addMember(alice, group.id, { userId: bob.userId }, "member");
      const editorOn = await grantToGroup(group.id, "editor");
      const adminOn = await grantToGroup(group.id, "admin");
      await seedWorkspaceMember(database.handle.db, adminOn, { type: "user", id: carol.userId }, "admin");
      unitOfWork.committed.length = 0;

      await service.deleteGroup(alice, group.id);

      expect(unitOfWork.committed.map((e) => e.type).sort()).toEqual([
        "GroupDeleted",
        "WorkspaceMemberRemoved",
        "WorkspaceMemberRemoved",
      ]);
      expect(probe.named("groupDeleted")[0]?.fact).toEqual({ groupId: group.id, workspaceGrantsRemoved: 2 });
      await expect(service.getGroup(alice, group.id)).rejects.toThrow(NotFoundError);
      const rows = await queryRows<{ n: number }>(
        database.handle.db,
        sql`SELECT (SELECT count(*) FROM workspace_members WHERE member_id = ${group.id})
                 + (SELECT count(*) FROM group_members WHERE group_id = ${group.id}) AS n`,
      );
      expect(Number(rows[0]?.n)).toBe(0);
      expect(await authorization.readRelationships({ resourceType: "group", resourceId: group.id })).toEqual([]);
      expect(
        await authorization.readRelationships({ resourceType: "workspace", subjectType: "group", subjectId: group.id }),
      ).toEqual([]);
      expect(await canOn("workspace", editorOn, "edit", bob.userId)).toBe(false);
    });

    it("is refused while the group is the only admin of a workspace, changing nothing", async () => {
      const group = await service.createGroup(alice, "keystone");
      const workspace = await grantToGroup(group.id, "admin");
      await grantToGroup(group.id, "editor");
      await expect(service.deleteGroup(alice, group.id)).rejects.toThrow(LastAdminError);
      await expect(service.deleteGroup(alice, group.id)).rejects.toThrow(/last admin of workspace '.*' \(/);
      expect((await service.getGroup(alice, group.id)).name).toBe("keystone");
      expect(await canOn("workspace", workspace, "manage", alice.userId)).toBe(true);
      const rows = await queryRows<{ n: number }>(
        database.handle.db,
        sql`SELECT count(*) AS n FROM workspace_members WHERE member_id = ${group.id}`,
      );
      expect(Number(rows[0]?.n)).toBe(2);
    });

    it("removes grants on 1,000 workspaces in one transaction and leaves no relationship behind", async () => {
      const group = await service.createGroup(alice, "wide");
      const db = database.handle.db;
      const root = await seedWorkspace(db, tenantId);
      const workspaceIds = Array.from({ length: 1000 }, () => newUlid());
      const parent = (await queryRows<{ p: string }>(db, sql`SELECT parent_workspace_id AS p FROM workspaces WHERE id = ${root}`))[0]!.p;
      await queryRows(
        db,
        sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id) VALUES ${sql.join(
          workspaceIds.map((id) => sql`(${id}, ${tenantId}, ${`bulk-${id}`}, ${parent})`),
          sql`, `,
        )}`,
      );
      await queryRows(
        db,
        sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES ${sql.join(
          workspaceIds.map((id) => sql`(${id}, 'group', ${group.id}, 'editor')`),
          sql`, `,
        )}`,
      );
      await unitOfWork.seed(...workspaceIds.map((id) => grantEvent(id, group.id, "editor")));
      unitOfWork.committed.length = 0;

      await service.deleteGroup(alice, group.id);

      expect(unitOfWork.committed.filter((e) => e.type === "WorkspaceMemberRemoved")).toHaveLength(1000);
      expect(
        await authorization.readRelationships({ resourceType: "workspace", subjectType: "group", subjectId: group.id }),
      ).toEqual([]);
      const rows = await queryRows<{ n: number }>(db, sql`SELECT count(*) AS n FROM workspace_members WHERE member_id = ${group.id}`);
      expect(Number(rows[0]?.n)).toBe(0);
    });
  });

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "never leaves a group without an admin when two admins demote each other at once",
    async () => {
      for (let round = 0; round < 5; round++) {
        const group = await service.createGroup(alice, `duel-${round}`);
        await service.addMember(alice, group.id, { userId: bob.userId }, "admin");
        const outcomes = await Promise.allSettled([
          service.changeMemberRole(alice, group.id, bob.userId, "member"),
          service.changeMemberRole(bob, group.id, alice.userId, "member"),
        ]);
        const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
        // Either one wins and the other meets the last-admin rule, or the loser had already lost
        // manage permission when it was checked (it was demoted first): never zero admins.
        expect(failures).toHaveLength(1);
        const reason = failures[0]?.reason as unknown;
        expect(reason instanceof LastAdminError || reason instanceof ForbiddenError).toBe(true);
        const members = (await service.getGroup(alice, group.id)).members;
        expect(members.filter((m) => m.role === "admin")).toHaveLength(1);
      }
    },
  );

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "waits for a concurrent removal of a workspace's other admin and then refuses to leave it without one",
    async () => {
      const group = await service.createGroup(alice, "co-admin");
      const workspace = await grantToGroup(group.id, "admin");
      await seedWorkspaceMember(database.handle.db, workspace, { type: "user", id: carol.userId }, "admin");
      let release!: () => void;
      const mayCommit = new Promise<void>((resolve) => (release = resolve));
      let removed!: () => void;
      const hasRemoved = new Promise<void>((resolve) => (removed = resolve));
      // The workspace side's protocol: lock the workspace row, check another admin remains, remove.
      const removeCarol = database.handle.db.transaction(async (tx) => {
        await queryRows(tx, sql`SELECT id FROM workspaces WHERE id = ${workspace} FOR UPDATE`);
        const others = await queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*) AS n FROM workspace_members
               WHERE workspace_id = ${workspace} AND role = 'admin' AND NOT (member_type = 'user' AND member_id = ${carol.userId})`,
        );
        expect(Number(others[0]?.n)).toBe(1); // the group
        await queryRows(
          tx,
          sql`DELETE FROM workspace_members WHERE workspace_id = ${workspace} AND member_type = 'user' AND member_id = ${carol.userId}`,
        );
        removed();
        await mayCommit;
      });
      await hasRemoved;
      const deletion = service.deleteGroup(alice, group.id);
      // Give the deletion every chance to (wrongly) decide before the removal commits.
      await queryRows(database.handle.db, sql`SELECT pg_sleep(0.3)`);
      release();
      await removeCarol;
      await expect(deletion).rejects.toThrow(LastAdminError);
      const admins = await queryRows<{ n: number }>(
        database.handle.db,
        sql`SELECT count(*) AS n FROM workspace_members WHERE workspace_id = ${workspace} AND role = 'admin'`,
      );
      expect(Number(admins[0]?.n)).toBe(1);
    },
  );

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "lets exactly one of two concurrent renames to the same name win",
    async () => {
      const first = await service.createGroup(alice, "one");
      const second = await service.createGroup(alice, "two");
      const outcomes = await Promise.allSettled([
        service.renameGroup(alice, first.id, "same"),
        service.renameGroup(alice, second.id, "same"),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      expect(failure?.reason).toBeInstanceOf(ConflictError);
    },
  );
});
