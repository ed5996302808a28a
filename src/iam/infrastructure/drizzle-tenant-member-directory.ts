import { and, eq, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { tenantMembers, tenants, users } from "../../platform/database/schema.js";
import type { MembershipHold, TenantMemberDirectory } from "../ports/tenant-member-directory.js";

/** Tenant members from tenant_members joined with users. */
export class DrizzleTenantMemberDirectory implements TenantMemberDirectory {
  constructor(private readonly db: Queryable) {}

  async findIdsByEmail(tenantId: string, email: string): Promise<string[]> {
    // lower(email) on both sides: stored emails keep the IdP's casing (ix_users_email_lower).
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .innerJoin(tenantMembers, and(eq(tenantMembers.userId, users.id), eq(tenantMembers.tenantId, tenantId)))
      .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
      .orderBy(users.id);
    return rows.map((row) => row.id);
  }

  async holdMembership(tenantId: string, userId: string): Promise<MembershipHold> {
    // Two statements issued together (one round trip on a pipelining connection), executed in
    // order: the tenant row first. KEY SHARE waits for a deletion or a member change holding the
    // tenant (FOR UPDATE) and then sees its outcome; it does not block other writers' key shares.
    const [tenant, member] = await Promise.all([
      this.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for("key share"),
      this.db
        .select({ userId: tenantMembers.userId })
        .from(tenantMembers)
        .where(and(eq(tenantMembers.tenantId, tenantId), eq(tenantMembers.userId, userId)))
        .for("key share"),
    ]);
    if (tenant.length === 0) return "no_tenant";
    return member.length > 0 ? "member" : "not_member";
  }
}
