import { and, asc, eq, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { tenantInvitations } from "../../platform/database/schema.js";
import type { TenantInvitation } from "../domain/invitation.js";
import type { TenantRole } from "../domain/roles.js";
import type { TenantInvitationRepository } from "../ports/tenant-invitation-repository.js";

const columns = { email: tenantInvitations.email, role: tenantInvitations.role, invitedBy: tenantInvitations.invitedByUserId };

function invitationOf(row: { email: string; role: string; invitedBy: string | null }): TenantInvitation {
  return { email: row.email, role: row.role as TenantRole, invitedBy: row.invitedBy };
}

export class DrizzleTenantInvitationRepository implements TenantInvitationRepository {
  constructor(private readonly db: Queryable) {}

  async put(tenantId: string, invitation: TenantInvitation): Promise<void> {
    await this.db
      .insert(tenantInvitations)
      .values({ tenantId, email: invitation.email, role: invitation.role, invitedByUserId: invitation.invitedBy })
      .onConflictDoUpdate({
        target: [tenantInvitations.tenantId, tenantInvitations.email],
        set: { role: sql`excluded.role`, invitedByUserId: sql`excluded.invited_by_user_id` },
      });
  }

  async listForTenant(tenantId: string): Promise<TenantInvitation[]> {
    const rows = await this.db
      .select(columns)
      .from(tenantInvitations)
      .where(eq(tenantInvitations.tenantId, tenantId))
      .orderBy(asc(tenantInvitations.email));
    return rows.map(invitationOf);
  }

  async remove(tenantId: string, email: string): Promise<boolean> {
    return (await this.take(tenantId, email)) !== null;
  }

  async tenantsInviting(email: string): Promise<string[]> {
    const rows = await this.db
      .select({ tenantId: tenantInvitations.tenantId })
      .from(tenantInvitations)
      .where(eq(tenantInvitations.email, email))
      .orderBy(asc(tenantInvitations.tenantId));
    return rows.map((row) => row.tenantId);
  }

  async take(tenantId: string, email: string): Promise<TenantInvitation | null> {
    const rows = await this.db
      .delete(tenantInvitations)
      .where(and(eq(tenantInvitations.tenantId, tenantId), eq(tenantInvitations.email, email)))
      .returning(columns);
    const row = rows[0];
    return row === undefined ? null : invitationOf(row);
  }
}
