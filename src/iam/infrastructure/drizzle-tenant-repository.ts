/** Tenants and their members in PostgreSQL. */
import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { queryRows } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { tenantMembers, tenants } from "../../platform/database/schema.js";
import { ConflictError, InvalidInputError } from "../domain/errors.js";
import type { TenantRole } from "../domain/roles.js";
import { Tenant } from "../domain/tenant.js";
import type { TenantMemberRecord, TenantRecord, TenantRepository } from "../ports/tenant-repository.js";
import { arrayText } from "../../platform/database/array-text.js";

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
      .where(sql`${tenants.id} = ANY(${arrayText(ids)}::varchar[])`)
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
    const row = await this.lockTenantRow(id);
    if (!row) return null;
    const members = await this.db
      .select({ userId: tenantMembers.userId, role: tenantMembers.role })
      .from(tenantMembers)
      .where(eq(tenantMembers.tenantId, id))
      .orderBy(asc(tenantMembers.userId))
      .for("update");
    return Tenant.rehydrate(row, new Map(members.map((m) => [m.userId, m.role as TenantRole])));
  }

  async loadForMemberChange(id: string, userId: string): Promise<Tenant | null> {
    const row = await this.lockTenantRow(id);
    if (!row) return null;
    const members = await this.db
      .select({ userId: tenantMembers.userId, role: tenantMembers.role })
      .from(tenantMembers)
      .where(and(eq(tenantMembers.tenantId, id), or(eq(tenantMembers.userId, userId), eq(tenantMembers.role, "admin"))))
      .orderBy(asc(tenantMembers.userId))
      .for("update");
    return Tenant.rehydrateAround(row, new Map(members.map((m) => [m.userId, m.role as TenantRole])));
  }

  async loadForNewMember(id: string): Promise<Tenant | null> {
    const row = await this.lockTenantRow(id);
    return row ? Tenant.rehydrateAround(row, new Map()) : null;
  }

  /** The tenant row, locked first: the lock order of every tenant-level change. */
  private async lockTenantRow(id: string) {
    const rows = await this.db.select(columns).from(tenants).where(eq(tenants.id, id)).for("update");
    return rows[0];
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
        .where(and(eq(tenantMembers.tenantId, tenant.id), sql`${tenantMembers.userId} = ANY(${arrayText(deletes)}::varchar[])`));
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
}
