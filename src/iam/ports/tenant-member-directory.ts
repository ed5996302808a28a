/**
 * The users who belong to a tenant, as far as adding them to something inside that tenant is
 * concerned: only members of a tenant can join its groups, and look-ups never reveal users of
 * other tenants.
 */

/** What holding a membership found: the user is a member, is not, or the tenant itself is gone. */
export type MembershipHold = "member" | "not_member" | "no_tenant";

export interface TenantMemberDirectory {
  /**
   * Ids of the tenant's members whose email matches `email` case-insensitively (lower(email)).
   * Usually one; several when users share an address.
   */
  findIdsByEmail(tenantId: string, email: string): Promise<string[]>;
  /**
   * Whether the user is a member of the tenant. Inside a transaction the tenant row and then the
   * membership row stay locked (shared; the lock order of every tenant-level change) until commit,
   * so neither the tenant's deletion nor the user's removal can pass the transaction: they wait
   * for it, and then see what it wrote.
   */
  holdMembership(tenantId: string, userId: string): Promise<MembershipHold>;
}
