import { and, asc, eq, sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
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

  async put(tenantId: string, invitation: TenantInvitation): Promise<TenantRole | null> {
    // The statement's snapshot sees the row as it was before its own upsert.
    const rows = await queryRows<{ previous_role: string | null }>(
      this.db,
      sql`WITH previous AS (
            SELECT ${tenantInvitations.role} AS role FROM ${tenantInvitations}
            WHERE ${tenantInvitations.tenantId} = ${tenantId} AND ${tenantInvitations.email} = ${invitation.email})
          INSERT INTO ${tenantInvitations} (tenant_id, email, role, invited_by_user_id)
          VALUES (${tenantId}, ${invitation.email}, ${invitation.role}, ${invitation.invitedBy})
          ON CONFLICT (tenant_id, email) DO UPDATE SET role = excluded.role, invited_by_user_id = excluded.invited_by_user_id
          RETURNING (SELECT role FROM previous) AS previous_role`,
    );
    return (rows[0]?.previous_role ?? null) as TenantRole | null;
  }

  async listForTenant(tenantId: string): Promise<TenantInvitation[]> {
    const rows = await this.db
      .select(columns)
      .from(tenantInvitations)
      .where(eq(tenantInvitations.tenantId, tenantId))
      .orderBy(asc(tenantInvitations.email));
    return rows.map(invitationOf);
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
