/**
 * Groups in PostgreSQL: the groups row, its group_members rows, and the workspace_members rows
 * that grant the group roles on workspaces. Name uniqueness per tenant is the database's job
 * (uq_groups_tenant_name); a violation, also one caused by a concurrent request, becomes a
 * ConflictError.
 *
 * Every write also moves the tenant's group-list version, so that the whole-tenant listing can
 * serve a list kept from an earlier call while the version stands (the group list's only cache).
 */
import { and, asc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { groupMembers, groups } from "../../platform/database/schema.js";
import { ConflictError } from "../domain/errors.js";
import { Group, type GroupMember, type GroupState } from "../domain/group.js";
import type { GroupWorkspaceGrant } from "../domain/group-workspace-grant.js";
import { isGroupRole, isWorkspaceRole, type GroupRole, type WorkspaceRole } from "../domain/roles.js";
import type { GroupRecord, GroupRepository } from "../ports/group-repository.js";
import { bumpGroupListVersion, readGroupListVersion } from "./group-list-version.js";
import type { KeptGroupLists } from "./kept-group-lists.js";
import { arrayText } from "../../platform/database/array-text.js";

const UNIQUE_NAME = "uq_groups_tenant_name";
/** Ids per statement when listing, far below PostgreSQL's 65,535 parameters. */
const IDS_PER_QUERY = 10_000;

type GroupRow = { id: string; tenantId: string; name: string; directoryManaged?: boolean };
type MemberRow = { groupId: string; userId: string; role: string };

export interface DrizzleGroupRepositoryOptions {
  /** Whole-tenant lists to reuse while the tenant's version stands (for reads outside transactions). */
  readonly keptLists?: KeptGroupLists;
}

export class DrizzleGroupRepository implements GroupRepository {
  constructor(
    private readonly db: Queryable,
    private readonly options: DrizzleGroupRepositoryOptions = {},
  ) {}

  async add(group: Group): Promise<void> {
    try {
      await this.db.insert(groups).values({ id: group.id, tenantId: group.tenantId, name: group.name, directoryManaged: group.directoryManaged });
    } catch (error) {
      if (violates(error, UNIQUE_NAME)) throw new ConflictError("A group with this name already exists");
      throw error;
    }
    await this.writeMembers(group);
    await bumpGroupListVersion(this.db, group.tenantId);
  }

  findById(groupId: string): Promise<Group | null> {
    return this.loadOne(groupId, null);
  }

  lockById(groupId: string): Promise<Group | null> {
    // NO KEY UPDATE: serialises changes to this group without blocking workspace grants that only
    // reference it (their foreign key check takes KEY SHARE).
    return this.loadOne(groupId, "no key update");
  }

  lockForDeletion(groupId: string): Promise<Group | null> {
    return this.loadOne(groupId, "update");
  }

  async listByIds(tenantId: string, groupIds: readonly string[]): Promise<GroupRecord[]> {
    const found: GroupRecord[] = [];
    for (let start = 0; start < groupIds.length; start += IDS_PER_QUERY) {
      const ids = groupIds.slice(start, start + IDS_PER_QUERY);
      found.push(...(await this.listWhere(sql`g.tenant_id = ${tenantId} AND g.id = ANY(${arrayText(ids)}::varchar[])`)));
    }
    return found.sort(byNameThenId);
  }

  async listByTenant(tenantId: string): Promise<readonly GroupRecord[]> {
    const kept = this.options.keptLists;
    if (kept === undefined) return (await this.listWhere(sql`g.tenant_id = ${tenantId}`)).sort(byNameThenId);
    // The version first: a list read after it is never older than the version it is kept with.
    const version = await readGroupListVersion(this.db, tenantId);
    const hit = kept.get(tenantId, version);
    if (hit !== undefined) return hit;
    const groups = Object.freeze((await this.listWhere(sql`g.tenant_id = ${tenantId}`)).sort(byNameThenId));
    kept.put(tenantId, version, groups);
    return groups;
  }

  private async listWhere(condition: SQL): Promise<GroupRecord[]> {
    // One row per group with its members folded in by PostgreSQL: returning every member as a row
    // of its own cost PGlite most of the time for large groups.
    const rows = await queryRows<GroupRow & { members: [string, string][] | string }>(
      this.db,
      sql`SELECT g.id, g.tenant_id AS "tenantId", g.name,
                 COALESCE((SELECT json_agg(json_build_array(gm.user_id, gm.role))
                           FROM group_members gm WHERE gm.group_id = g.id), '[]'::json) AS members
          FROM groups g
          WHERE ${condition}`,
    );
    return rows.map((row) => {
      const members = typeof row.members === "string" ? (JSON.parse(row.members) as [string, string][]) : row.members;
      const group = Group.restore({
        id: row.id,
        tenantId: row.tenantId,
        name: row.name,
        members: members.map(([userId, role]) => ({ userId, role: groupRoleOf(role) })),
      });
      return { id: group.id, name: group.name, members: group.memberList };
    });
  }

  async lockGroupsOfMember(tenantId: string, userId: string): Promise<Group[]> {
    const rows = await this.db
      .select({ id: groups.id, tenantId: groups.tenantId, name: groups.name, directoryManaged: groups.directoryManaged })
      .from(groups)
      .where(
        and(
          eq(groups.tenantId, tenantId),
          inArray(
            groups.id,
            this.db.select({ id: groupMembers.groupId }).from(groupMembers).where(eq(groupMembers.userId, userId)),
          ),
        ),
      )
      .orderBy(asc(groups.id))
      .for("no key update");
    if (rows.length === 0) return [];
    // Around the user: their rows and the admins', not every member of every group they leave.
    const memberRows = await this.db
      .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, role: groupMembers.role })
      .from(groupMembers)
      .where(
        and(
          inArray(
            groupMembers.groupId,
            rows.map((row) => row.id),
          ),
          or(eq(groupMembers.userId, userId), eq(groupMembers.role, "admin")),
        ),
      );
    return hydrate(rows, memberRows, Group.restoreAround);
  }

  async lockAllOfTenant(tenantId: string): Promise<Group[]> {
    const rows = await this.db
      .select({ id: groups.id, tenantId: groups.tenantId, name: groups.name, directoryManaged: groups.directoryManaged })
      .from(groups)
      .where(eq(groups.tenantId, tenantId))
      .orderBy(asc(groups.id))
      .for("update");
    if (rows.length === 0) return [];
    const memberRows = await this.db
      .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, role: groupMembers.role })
      .from(groupMembers)
      .innerJoin(groups, eq(groups.id, groupMembers.groupId))
      .where(eq(groups.tenantId, tenantId));
    return hydrate(rows, memberRows);
  }

  async save(group: Group): Promise<void> {
    const changed = group.nameChanged || hasMemberChanges(group);
    if (group.nameChanged) {
      try {
        await this.db.update(groups).set({ name: group.name, updatedAt: sql`now()` }).where(eq(groups.id, group.id));
      } catch (error) {
        if (violates(error, UNIQUE_NAME)) throw new ConflictError(`Group '${group.name}' already exists in tenant`);
        throw error;
      }
    }
    await this.writeMembers(group);
    if (changed) await bumpGroupListVersion(this.db, group.tenantId);
  }

  async saveAll(batch: readonly Group[]): Promise<void> {
    const removalsOnly: Group[] = [];
    for (const group of batch) {
      if (group.nameChanged || group.memberChanges().upserted.length > 0) await this.save(group);
      else removalsOnly.push(group);
    }
    const removed = removalsOnly.flatMap((group) => group.memberChanges().removed.map((userId) => ({ group_id: group.id, user_id: userId })));
    if (removed.length === 0) return;
    await queryRows(
      this.db,
      sql`DELETE FROM ${groupMembers} gm
          USING jsonb_to_recordset(${JSON.stringify(removed)}::jsonb) AS gone (group_id varchar, user_id varchar)
          WHERE gm.group_id = gone.group_id AND gm.user_id = gone.user_id`,
    );
    const tenants = new Set(removalsOnly.filter(hasMemberChanges).map((group) => group.tenantId));
    for (const tenantId of tenants) await bumpGroupListVersion(this.db, tenantId);
  }

  async lockWorkspaceGrants(groupId: string): Promise<GroupWorkspaceGrant[]> {
    // The workspaces first, in id order (the order every deleter uses, so two never deadlock),
    // then their admin rows: whether the workspace side serialises on the workspace row or on
    // the member rows, it waits for this transaction.
    const grants = await queryRows<{ workspace_id: string; workspace_name: string; role: string }>(
      this.db,
      sql`SELECT w.id AS workspace_id, w.name AS workspace_name, wm.role
            FROM workspace_members wm JOIN workspaces w ON w.id = wm.workspace_id
           WHERE wm.group_id = ${groupId}
           ORDER BY w.id
             FOR UPDATE OF w`,
    );
    if (grants.length === 0) return [];
    const admins = await queryRows<{ workspace_id: string; member_type: string; member_id: string }>(
      this.db,
      sql`SELECT workspace_id, member_type, member_id
            FROM workspace_members
           WHERE role = 'admin'
             AND workspace_id IN (SELECT workspace_id FROM workspace_members WHERE group_id = ${groupId})
           ORDER BY workspace_id, member_type, member_id
             FOR UPDATE`,
    );
    const otherAdmins = new Map<string, number>();
    for (const admin of admins) {
      if (admin.member_type === "group" && admin.member_id === groupId) continue;
      otherAdmins.set(admin.workspace_id, (otherAdmins.get(admin.workspace_id) ?? 0) + 1);
    }
    return grants.map((grant) => ({
      workspaceId: grant.workspace_id,
      workspaceName: grant.workspace_name,
      role: workspaceRoleOf(grant.role),
      otherAdminCount: otherAdmins.get(grant.workspace_id) ?? 0,
    }));
  }

  async remove(group: Group): Promise<void> {
    if (!group.isDeleted) throw new Error(`Group ${group.id} must be marked deleted (recording its events) before removal`);
    // Grants first: fk_workspace_members_group refuses to delete a group that still holds any.
    await queryRows(this.db, sql`DELETE FROM workspace_members WHERE group_id = ${group.id}`);
    await this.db.delete(groups).where(eq(groups.id, group.id));
    await bumpGroupListVersion(this.db, group.tenantId);
  }

  async removeAll(doomed: readonly Group[]): Promise<void> {
    if (doomed.length === 0) return;
    const alive = doomed.find((group) => !group.isDeleted);
    if (alive) throw new Error(`Group ${alive.id} must be marked deleted (recording its events) before removal`);
    const ids = arrayText(doomed.map((group) => group.id));
    await queryRows(this.db, sql`DELETE FROM workspace_members WHERE group_id = ANY(${ids}::varchar[])`);
    await queryRows(this.db, sql`DELETE FROM groups WHERE id = ANY(${ids}::varchar[])`);
    for (const tenantId of new Set(doomed.map((group) => group.tenantId))) await bumpGroupListVersion(this.db, tenantId);
  }

  private async loadOne(groupId: string, lock: "update" | "no key update" | null): Promise<Group | null> {
    const query = this.db
      .select({ id: groups.id, tenantId: groups.tenantId, name: groups.name, directoryManaged: groups.directoryManaged })
      .from(groups)
      .where(eq(groups.id, groupId));
    const rows = lock === null ? await query : await query.for(lock);
    if (rows.length === 0) return null;
    const memberRows = await this.db
      .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, role: groupMembers.role })
      .from(groupMembers)
      .where(eq(groupMembers.groupId, groupId))
      .orderBy(asc(groupMembers.userId));
    return hydrate(rows, memberRows)[0] ?? null;
  }

  private async writeMembers(group: Group): Promise<void> {
    const { upserted, removed } = group.memberChanges();
    if (upserted.length > 0) {
      await this.db
        .insert(groupMembers)
        .values(upserted.map((member) => ({ groupId: group.id, userId: member.userId, role: member.role })))
        .onConflictDoUpdate({ target: [groupMembers.groupId, groupMembers.userId], set: { role: sql`excluded.role` } });
    }
    if (removed.length > 0) {
      await this.db
        .delete(groupMembers)
        .where(and(eq(groupMembers.groupId, group.id), inArray(groupMembers.userId, [...removed])));
    }
  }
}

function hydrate(rows: readonly GroupRow[], memberRows: readonly MemberRow[], restore: (state: GroupState) => Group = Group.restore): Group[] {
  const membersOf = new Map<string, GroupMember[]>();
  for (const row of memberRows) {
    const list = membersOf.get(row.groupId) ?? [];
    list.push({ userId: row.userId, role: groupRoleOf(row.role) });
    membersOf.set(row.groupId, list);
  }
  return rows.map((row) =>
    restore({ id: row.id, tenantId: row.tenantId, name: row.name, directoryManaged: row.directoryManaged, members: membersOf.get(row.id) ?? [] }),
  );
}

function groupRoleOf(value: string): GroupRole {
  if (!isGroupRole(value)) throw new Error(`Stored group role '${value}' is not a group role`);
  return value;
}

function workspaceRoleOf(value: string): WorkspaceRole {
  if (!isWorkspaceRole(value)) throw new Error(`Stored workspace role '${value}' is not a workspace role`);
  return value;
}

function hasMemberChanges(group: Group): boolean {
  const { upserted, removed } = group.memberChanges();
  return upserted.length > 0 || removed.length > 0;
}

function byNameThenId(a: GroupRecord, b: GroupRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1;
}
