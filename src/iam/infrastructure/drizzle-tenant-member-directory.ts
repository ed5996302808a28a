import { and, eq, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { tenantMembers, users } from "../../platform/database/schema.js";
import type { TenantMemberDirectory } from "../ports/tenant-member-directory.js";

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

  async holdMembership(tenantId: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .select({ userId: tenantMembers.userId })
      .from(tenantMembers)
      .where(and(eq(tenantMembers.tenantId, tenantId), eq(tenantMembers.userId, userId)))
      .for("key share");
    return rows.length > 0;
  }
}
