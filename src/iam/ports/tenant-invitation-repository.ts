import type { TenantInvitation } from "../domain/invitation.js";
import type { TenantRole } from "../domain/roles.js";

/** Pending invitations to tenants, by lower-cased email. */
export interface TenantInvitationRepository {
  /**
   * Records the invitation, or gives an existing one of the same email its new role. Returns the
   * role the email was invited with before (null: it was not).
   */
  put(tenantId: string, invitation: TenantInvitation): Promise<TenantRole | null>;
  /** The tenant's invitations, by email. */
  listForTenant(tenantId: string): Promise<TenantInvitation[]>;
  /** Ids of the tenants that invited the email, in id order (the lock order of binding). */
  tenantsInviting(email: string): Promise<string[]>;
  /** Deletes and returns the invitation for binding; null when there is none (any more). */
  take(tenantId: string, email: string): Promise<TenantInvitation | null>;
}
