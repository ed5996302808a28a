import type { TenantInvitation } from "../domain/invitation.js";

/** Pending invitations to tenants, by lower-cased email. */
export interface TenantInvitationRepository {
  /** Records the invitation, or gives an existing one of the same email its new role. */
  put(tenantId: string, invitation: TenantInvitation): Promise<void>;
  /** The tenant's invitations, by email. */
  listForTenant(tenantId: string): Promise<TenantInvitation[]>;
  /** Deletes the invitation; true when there was one. */
  remove(tenantId: string, email: string): Promise<boolean>;
  /** Ids of the tenants that invited the email, in id order (the lock order of binding). */
  tenantsInviting(email: string): Promise<string[]>;
  /** Deletes and returns the invitation for binding; null when there is none (any more). */
  take(tenantId: string, email: string): Promise<TenantInvitation | null>;
}
