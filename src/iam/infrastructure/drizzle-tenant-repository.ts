/**
 * Tenants in PostgreSQL, with the narrow cascades a tenant's lifecycle needs on groups and API keys
 * (those aggregates belong to other services; here only their rows are removed or revoked, and the
 * caller records the matching events).
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { queryRows } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { apiKeys, groupMembers, groups, tenantMembers, tenants } from "../../platform/database/schema.js";
import { ConflictError, InvalidInputError } from "../domain/errors.js";
import type { GroupRole, TenantRole } from "../domain/roles.js";
import { Tenant } from "../domain/tenant.js";
import { bumpGroupListVersion } from "./group-list-version.js";
import type {
  DeletedGroup,
  GroupRoleOfUser,
  RemovedApiKey,
  TenantMemberRecord,
  TenantRecord,
  TenantRepository,
} from "../ports/tenant-repository.js";

const columns = { id: tenants.id, name: tenants.name };

/** The advisory lock of the default tenant's set-up, named like the outbox's locks. */
const DEFAULT_TENANT_SETUP_LOCK = sql`hashtextextended('kartograph-default-tenant', 0)`;

export class DrizzleTenantRepository implements TenantRepository {
  constructor(private readonly db: Queryable) {}

  async findById(id: string): Promise<TenantRecord | null> {
    const rows = await this.db.select(columns).from(tenants).where(eq(tenants.id, id));
    return rows[0] ?? null;
  }

  async listByIds(ids: readonly string[]): Promise<TenantRecord[]> {
    if (ids.length === 0) return [];
    return this.db
      .select(columns)
      .from(tenants)
      .where(sql`${tenants.id} = ANY(${sql.param([...ids])}::varchar[])`)
      .orderBy(asc(tenants.name));
  }

  async listMembers(tenantId: string): Promise<TenantMemberRecord[]> {
    const rows = await this.db
      .select({ userId: tenantMembers.userId, role: tenantMembers.role })
      .from(tenantMembers)
      .where(eq(tenantMembers.tenantId, tenantId))
      .orderBy(asc(tenantMembers.userId));
    return rows.map((r) => ({ userId: r.userId, role: r.role as TenantRole }));
  }

  async loadForUpdate(id: string): Promise<Tenant | null> {
    const rows = await this.db.select(columns).from(tenants).where(eq(tenants.id, id)).for("update");
    const row = rows[0];
    if (!row) return null;
    const members = await this.db
      .select({ userId: tenantMembers.userId, role: tenantMembers.role })
      .from(tenantMembers)
      .where(eq(tenantMembers.tenantId, id))
      .orderBy(asc(tenantMembers.userId))
      .for("update");
    return Tenant.rehydrate(row, new Map(members.map((m) => [m.userId, m.role as TenantRole])));
  }

  async save(tenant: Tenant): Promise<void> {
    try {
      if (tenant.isNew) await this.db.insert(tenants).values({ id: tenant.id, name: tenant.name, createdByUserId: tenant.createdBy });
      await this.writeMembers(tenant);
    } catch (error) {
      if (violates(error, "uq_tenants_creator_name")) {
        throw new ConflictError(`You already created a tenant named '${tenant.name}'; choose another name`);
      }
      if (violates(error, "tenant_members_user_id_users_id_fk")) {
        throw new InvalidInputError("User does not exist; they must sign in at least once before they can be added");
      }
      throw error;
    }
    tenant.markPersisted();
  }

  private async writeMembers(tenant: Tenant): Promise<void> {
    const { upserts, deletes } = tenant.memberChanges();
    if (deletes.length > 0) {
      await this.db
        .delete(tenantMembers)
        .where(and(eq(tenantMembers.tenantId, tenant.id), sql`${tenantMembers.userId} = ANY(${sql.param(deletes)}::varchar[])`));
    }
    if (upserts.length > 0) {
      await this.db
        .insert(tenantMembers)
        .values(upserts.map((m) => ({ tenantId: tenant.id, userId: m.userId, role: m.role })))
        .onConflictDoUpdate({ target: [tenantMembers.tenantId, tenantMembers.userId], set: { role: sql`excluded.role` } });
    }
  }

  async lockDefaultTenantSetup(): Promise<void> {
    await queryRows(this.db, sql`SELECT pg_advisory_xact_lock(${DEFAULT_TENANT_SETUP_LOCK})`);
  }

  async findDefault(): Promise<TenantRecord | null> {
    const rows = await this.db.select(columns).from(tenants).where(eq(tenants.isDefault, true));
    return rows[0] ?? null;
  }

  async adoptDefault(name: string): Promise<TenantRecord | null> {
    const oldest = this.db
      .select({ id: tenants.id })
      .from(tenants)
      .where(and(eq(tenants.name, name), isNull(tenants.createdByUserId)))
      .orderBy(asc(tenants.createdAt), asc(tenants.id))
      .limit(1);
    const rows = await this.db
      .update(tenants)
      .set({ isDefault: true })
      .where(sql`${tenants.id} = (${oldest})`)
      .returning(columns);
    return rows[0] ?? null;
  }

  async insertDefault(tenant: Tenant): Promise<void> {
    await this.db.insert(tenants).values({ id: tenant.id, name: tenant.name, isDefault: true });
    await this.writeMembers(tenant);
    tenant.markPersisted();
  }

  async memberRole(tenantId: string, userId: string): Promise<TenantRole | null> {
    const rows = await this.db
      .select({ role: tenantMembers.role })
      .from(tenantMembers)
      .where(and(eq(tenantMembers.tenantId, tenantId), eq(tenantMembers.userId, userId)));
    return (rows[0]?.role as TenantRole | undefined) ?? null;
  }

  async delete(tenant: Tenant): Promise<void> {
    await this.db.delete(tenants).where(eq(tenants.id, tenant.id));
  }

  async groupRolesOfUserForUpdate(tenantId: string, userId: string): Promise<GroupRoleOfUser[]> {
    // Lock the groups first (in id order, like every other path), then count their admins.
    const locked = await this.db
      .select({ id: groups.id })
      .from(groups)
      .innerJoin(groupMembers, eq(groupMembers.groupId, groups.id))
      .where(and(eq(groups.tenantId, tenantId), eq(groupMembers.userId, userId)))
      .orderBy(asc(groups.id))
      .for("update", { of: groups });
    if (locked.length === 0) return [];
    const rows = await queryRows<{ group_id: string; group_name: string; role: string; admin_count: number | string }>(
      this.db,
      sql`SELECT g.id AS group_id, g.name AS group_name, mine.role,
                 (SELECT count(*) FROM group_members a WHERE a.group_id = g.id AND a.role = 'admin') AS admin_count
            FROM groups g JOIN group_members mine ON mine.group_id = g.id AND mine.user_id = ${userId}
           WHERE g.tenant_id = ${tenantId}
           ORDER BY g.id`,
    );
    return rows.map((r) => ({
      groupId: r.group_id,
      groupName: r.group_name,
      role: r.role as GroupRole,
      adminCount: Number(r.admin_count),
    }));
  }

  async removeUserFromGroups(tenantId: string, userId: string): Promise<void> {
    const removed = await this.db
      .delete(groupMembers)
      .where(
        and(
          eq(groupMembers.userId, userId),
          sql`${groupMembers.groupId} IN (SELECT ${groups.id} FROM ${groups} WHERE ${groups.tenantId} = ${tenantId})`,
        ),
      )
      .returning({ groupId: groupMembers.groupId });
    if (removed.length > 0) await bumpGroupListVersion(this.db, tenantId);
  }

  async revokeApiKeysOfUser(tenantId: string, userId: string, now: Date): Promise<RemovedApiKey[]> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: now, updatedAt: now })
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.createdByUserId, userId), isNull(apiKeys.revokedAt)))
      .returning({ apiKeyId: apiKeys.id, userId: apiKeys.createdByUserId });
    return rows;
  }

  async deleteGroupsOfTenant(tenantId: string): Promise<DeletedGroup[]> {
    const members = await this.db
      .select({ groupId: groupMembers.groupId, userId: groupMembers.userId, role: groupMembers.role })
      .from(groupMembers)
      .innerJoin(groups, eq(groups.id, groupMembers.groupId))
      .where(eq(groups.tenantId, tenantId));
    const deleted = await this.db.delete(groups).where(eq(groups.tenantId, tenantId)).returning({ id: groups.id });
    return deleted.map(({ id }) => ({
      groupId: id,
      members: members.filter((m) => m.groupId === id).map((m) => ({ userId: m.userId, role: m.role })),
    }));
  }

  async deleteApiKeysOfTenant(tenantId: string): Promise<RemovedApiKey[]> {
    return this.db
      .delete(apiKeys)
      .where(eq(apiKeys.tenantId, tenantId))
      .returning({ apiKeyId: apiKeys.id, userId: apiKeys.createdByUserId });
  }
}
