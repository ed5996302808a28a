import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../../src/iam/domain/errors.js";
import { Group } from "../../../src/iam/domain/group.js";
import { DrizzleGroupRepository } from "../../../src/iam/infrastructure/drizzle-group-repository.js";
import { KeptGroupLists } from "../../../src/iam/infrastructure/kept-group-lists.js";
import { queryRows } from "../../../src/platform/database/database.js";
import { newUlid } from "../../../src/shared-kernel/ids.js";
import { countingQueryable } from "../../support/counting-queryable.js";
import { seedTenant, seedTenantMember, seedWorkspace, seedWorkspaceMember } from "../../support/sql-seed.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const NOW = new Date("2025-01-02T03:04:05.000Z");

describe.each(TEST_DATABASE_KINDS)("DrizzleGroupRepository on %s", (kind) => {
  let database: TestDatabase;
  let repository: DrizzleGroupRepository;
  let tenantId: string;
  let otherTenantId: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    repository = new DrizzleGroupRepository(database.handle.db);
  });
  afterAll(async () => {
    await database?.dispose();
  });
  beforeEach(async () => {
    tenantId = await seedTenant(database.handle.db);
    otherTenantId = await seedTenant(database.handle.db);
    for (const user of ["alice", "bob", "carol"]) {
      await seedTenantMember(database.handle.db, tenantId, `${user}-${tenantId}`);
    }
  });

  const user = (name: string) => `${name}-${tenantId}`;

  async function addGroup(name = `g-${newUlid()}`, tenant = tenantId): Promise<Group> {
    const group = Group.create({ id: newUlid(), tenantId: tenant, name, creatorId: user("alice"), now: NOW });
    await repository.add(group);
    return group;
  }

  const rowCount = async (query: ReturnType<typeof sql>) =>
    Number((await queryRows<{ n: number }>(database.handle.db, query))[0]?.n ?? -1);

  it("stores a new group with its creator as admin and finds it again", async () => {
    const group = await addGroup("  ops  ");
    const found = await repository.findById(group.id);
    expect(found?.id).toBe(group.id);
    expect(found?.tenantId).toBe(tenantId);
    expect(found?.name).toBe("ops");
    expect(found?.memberList).toEqual([{ userId: user("alice"), role: "admin" }]);
    expect(found?.memberChanges()).toEqual({ upserted: [], removed: [] });
  });

  it("finds nothing for an unknown id", async () => {
    expect(await repository.findById(newUlid())).toBeNull();
    expect(await repository.lockById(newUlid())).toBeNull();
  });

  it("refuses a second group of the same name in a tenant, but not in another tenant", async () => {
    await addGroup("platform");
    await expect(addGroup("platform")).rejects.toThrow(ConflictError);
    await expect(addGroup("platform")).rejects.toThrow("A group with this name already exists");
    await seedTenantMember(database.handle.db, otherTenantId, user("alice"));
    await expect(addGroup("platform", otherTenantId)).resolves.toBeInstanceOf(Group);
  });

  it("saves member additions, role changes and removals", async () => {
    const created = await addGroup();
    const group = (await repository.lockById(created.id))!;
    group.addMember(user("bob"), "member", NOW);
    group.addMember(user("carol"), "admin", NOW);
    await repository.save(group);

    const second = (await repository.findById(created.id))!;
    expect(second.memberList).toEqual([
      { userId: user("alice"), role: "admin" },
      { userId: user("carol"), role: "admin" },
      { userId: user("bob"), role: "member" },
    ]);
    second.changeMemberRole(user("bob"), "admin", NOW);
    second.removeMember(user("carol"), NOW);
    await repository.save(second);

    expect((await repository.findById(created.id))!.memberList).toEqual([
      { userId: user("alice"), role: "admin" },
      { userId: user("bob"), role: "admin" },
    ]);
  });

  it("renames, and refuses a name another group of the tenant has", async () => {
    const first = await addGroup("alpha");
    await addGroup("beta");
    const group = (await repository.findById(first.id))!;
    group.rename("gamma", new Date());
    await repository.save(group);
    expect((await repository.findById(first.id))!.name).toBe("gamma");

    const again = (await repository.findById(first.id))!;
    again.rename("beta", new Date());
    await expect(repository.save(again)).rejects.toThrow("Group 'beta' already exists in tenant");
    expect((await repository.findById(first.id))!.name).toBe("gamma");
  });

  it("lists the groups of one tenant among the ids given, sorted by name, with their members", async () => {
    const b = await addGroup("b-group");
    const a = await addGroup("a-group");
    const withBob = (await repository.findById(b.id))!;
    withBob.addMember(user("bob"), "member", NOW);
    await repository.save(withBob);
    await seedTenantMember(database.handle.db, otherTenantId, user("alice"));
    const foreign = await addGroup("foreign", otherTenantId);

    const listed = await repository.listByIds(tenantId, [b.id, a.id, foreign.id, newUlid()]);
    expect(listed.map((g) => g.name)).toEqual(["a-group", "b-group"]);
    expect(listed[1]?.members).toEqual([
      { userId: user("alice"), role: "admin" },
      { userId: user("bob"), role: "member" },
    ]);
    expect(await repository.listByIds(tenantId, [])).toEqual([]);
    // All of the tenant's groups, and none of another's.
    expect((await repository.listByTenant(tenantId)).map((g) => g.name)).toEqual(["a-group", "b-group"]);
    expect((await repository.listByTenant(otherTenantId)).map((g) => g.name)).toEqual(["foreign"]);
  });

  it("lists 1,000 groups with all their members in one query", async () => {
    const ids: string[] = [];
    const values = [];
    const memberValues = [];
    for (let i = 0; i < 1000; i++) {
      const id = newUlid();
      ids.push(id);
      values.push(sql`(${id}, ${tenantId}, ${`bulk-${String(i).padStart(4, "0")}`})`);
      memberValues.push(sql`(${id}, ${user("alice")}, 'admin')`, sql`(${id}, ${user("bob")}, 'member')`);
    }
    await queryRows(database.handle.db, sql`INSERT INTO groups (id, tenant_id, name) VALUES ${sql.join(values, sql`, `)}`);
    await queryRows(
      database.handle.db,
      sql`INSERT INTO group_members (group_id, user_id, role) VALUES ${sql.join(memberValues, sql`, `)}`,
    );

    const counting = countingQueryable(database.handle.db);
    const listed = await new DrizzleGroupRepository(counting.db).listByIds(tenantId, ids);
    expect(listed).toHaveLength(1000);
    expect(listed.every((g) => g.members.length === 2)).toBe(true);
    expect(counting.count()).toBe(1);
    const all = await new DrizzleGroupRepository(counting.db).listByTenant(tenantId);
    expect(all.map((g) => g.id)).toEqual(ids);
    expect(counting.count()).toBe(2);
  });

  it("serves a kept whole-tenant list while no group write moved the version, and a fresh one after any", async () => {
    const counting = countingQueryable(database.handle.db);
    const keptLists = new KeptGroupLists();
    const listing = new DrizzleGroupRepository(counting.db, { keptLists });
    const group = await addGroup("kept");
    const first = await listing.listByTenant(tenantId);
    counting.reset();
    expect(await listing.listByTenant(tenantId)).toBe(first);
    expect(counting.count()).toBe(1); // the version only
    // Writes through another repository (another request, or another process) move the version.
    const writes: ((g: Group) => void)[] = [
      (g) => g.rename("kept-renamed", NOW),
      (g) => g.addMember(user("bob"), "member", NOW),
      (g) => g.changeMemberRole(user("bob"), "admin", NOW),
      (g) => g.removeMember(user("bob"), NOW),
    ];
    let previous = first;
    for (const write of writes) {
      const loaded = (await repository.findById(group.id))!;
      write(loaded);
      await repository.save(loaded);
      const listed = await listing.listByTenant(tenantId);
      expect(listed).not.toEqual(previous);
      previous = listed;
    }
    const unchanged = (await repository.findById(group.id))!;
    unchanged.rename("kept-renamed", NOW); // the same name: nothing written, the kept list stands
    await repository.save(unchanged);
    expect(await listing.listByTenant(tenantId)).toBe(previous);
    await addGroup("second");
    expect((await listing.listByTenant(tenantId)).map((g) => g.name)).toEqual(["kept-renamed", "second"]);
    const doomed = (await repository.findById(group.id))!;
    doomed.markDeleted([], NOW);
    await repository.remove(doomed);
    expect((await listing.listByTenant(tenantId)).map((g) => g.name)).toEqual(["second"]);
    // Another tenant's writes leave this tenant's kept list alone.
    const kept = await listing.listByTenant(tenantId);
    await seedTenantMember(database.handle.db, otherTenantId, user("alice"));
    await addGroup("elsewhere", otherTenantId);
    expect(await listing.listByTenant(tenantId)).toBe(kept);
    expect(keptLists.stats().hits).toBe(4);
  });

  it("finds and locks the groups of the tenant a user belongs to", async () => {
    await addGroup("first");
    const second = await addGroup("second");
    await addGroup("third");
    const withBob = (await repository.findById(second.id))!;
    withBob.addMember(user("bob"), "member", NOW);
    withBob.addMember(user("carol"), "member", NOW);
    await repository.save(withBob);
    await seedTenantMember(database.handle.db, otherTenantId, user("alice"));
    await addGroup("foreign", otherTenantId);

    const ofAlice = await database.handle.db.transaction((tx) =>
      new DrizzleGroupRepository(tx).lockGroupsOfMember(tenantId, user("alice")),
    );
    expect(ofAlice.map((g) => g.name).sort()).toEqual(["first", "second", "third"]);
    const ofBob = await repository.lockGroupsOfMember(tenantId, user("bob"));
    expect(ofBob.map((g) => g.id)).toEqual([second.id]);
    // Loaded around bob: his membership and the admins, which is all his departure needs.
    expect([user("alice"), user("bob"), user("carol")].map((id) => ofBob[0]?.roleOf(id))).toEqual(["admin", "member", null]);
    expect(() => ofBob[0]?.memberList).toThrow("loaded around one member");
    expect(ofAlice.every((group) => group.roleOf(user("alice")) === "admin")).toBe(true);
    expect(await repository.lockGroupsOfMember(tenantId, user("nobody"))).toEqual([]);
  });

  describe("workspace grants", () => {
    it("reports each grant with the number of other admins of the workspace", async () => {
      const group = await addGroup();
      const other = await addGroup();
      const soleAdmin = await seedWorkspace(database.handle.db, tenantId, "sole");
      const sharedAdmin = await seedWorkspace(database.handle.db, tenantId, "shared");
      const editorOnly = await seedWorkspace(database.handle.db, tenantId, "editor-only");
      await seedWorkspaceMember(database.handle.db, soleAdmin, { type: "group", id: group.id }, "admin");
      await seedWorkspaceMember(database.handle.db, soleAdmin, { type: "user", id: user("bob") }, "editor");
      await seedWorkspaceMember(database.handle.db, sharedAdmin, { type: "group", id: group.id }, "admin");
      await seedWorkspaceMember(database.handle.db, sharedAdmin, { type: "user", id: user("bob") }, "admin");
      await seedWorkspaceMember(database.handle.db, sharedAdmin, { type: "group", id: other.id }, "admin");
      await seedWorkspaceMember(database.handle.db, editorOnly, { type: "group", id: group.id }, "editor");

      const grants = await database.handle.db.transaction((tx) => new DrizzleGroupRepository(tx).lockWorkspaceGrants(group.id));
      const byName = Object.fromEntries(grants.map((g) => [g.workspaceName, g]));
      expect(grants).toHaveLength(3);
      expect(byName["sole"]).toEqual({ workspaceId: soleAdmin, workspaceName: "sole", role: "admin", otherAdminCount: 0 });
      expect(byName["shared"]).toMatchObject({ role: "admin", otherAdminCount: 2 });
      expect(byName["editor-only"]).toMatchObject({ role: "editor", otherAdminCount: 0 });
      expect(await repository.lockWorkspaceGrants(newUlid())).toEqual([]);
    });

    it("removal deletes the grants, the members and the group, and nothing else", async () => {
      const group = await addGroup();
      const keep = await addGroup();
      const workspace = await seedWorkspace(database.handle.db, tenantId);
      await seedWorkspaceMember(database.handle.db, workspace, { type: "group", id: group.id }, "editor");
      await seedWorkspaceMember(database.handle.db, workspace, { type: "group", id: keep.id }, "admin");

      const loaded = (await repository.lockForDeletion(group.id))!;
      await expect(repository.remove(loaded)).rejects.toThrow(/must be marked deleted/);
      loaded.markDeleted(await repository.lockWorkspaceGrants(group.id), NOW);
      await repository.remove(loaded);

      expect(await repository.findById(group.id)).toBeNull();
      expect(await rowCount(sql`SELECT count(*)::int AS n FROM group_members WHERE group_id = ${group.id}`)).toBe(0);
      expect(await rowCount(sql`SELECT count(*)::int AS n FROM workspace_members WHERE member_id = ${group.id}`)).toBe(0);
      expect(await rowCount(sql`SELECT count(*)::int AS n FROM workspace_members WHERE member_id = ${keep.id}`)).toBe(1);
      expect(await repository.findById(keep.id)).not.toBeNull();
    });
  });

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "lets exactly one of two concurrent renames to the same name win",
    async () => {
      const first = await addGroup();
      const second = await addGroup();
      const rename = (id: string) =>
        database.handle.db.transaction(async (tx) => {
          const repo = new DrizzleGroupRepository(tx);
          const group = (await repo.lockById(id))!;
          group.rename("contested", new Date());
          await repo.save(group);
          // Hold the transaction open a moment so that both renames overlap.
          await tx.execute(sql`SELECT pg_sleep(0.1)`);
        });
      const outcomes = await Promise.allSettled([rename(first.id), rename(second.id)]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const failure = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      expect(failure.reason).toBeInstanceOf(ConflictError);
    },
  );

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "makes a second locker of the same group wait for the first to commit",
    async () => {
      const group = await addGroup();
      const order: string[] = [];
      let releaseFirst!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
      let firstLocked!: () => void;
      const firstHasLock = new Promise<void>((resolve) => (firstLocked = resolve));

      const first = database.handle.db.transaction(async (tx) => {
        await new DrizzleGroupRepository(tx).lockById(group.id);
        firstLocked();
        await firstMayCommit;
        order.push("first commits");
      });
      await firstHasLock;
      const second = database.handle.db.transaction(async (tx) => {
        await new DrizzleGroupRepository(tx).lockById(group.id);
        order.push("second locked");
      });
      // Give the second transaction every chance to (wrongly) get the lock first.
      await database.handle.db.execute(sql`SELECT pg_sleep(0.2)`);
      order.push("released");
      releaseFirst();
      await Promise.all([first, second]);
      expect(order).toEqual(["released", "first commits", "second locked"]);
    },
  );
});
