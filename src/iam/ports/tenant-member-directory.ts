/**
 * The users who belong to a tenant, as far as adding them to something inside that tenant is
 * concerned: only members of a tenant can join its groups, and look-ups never reveal users of
 * other tenants.
 */
export interface TenantMemberDirectory {
  /**
   * Ids of the tenant's members whose email matches `email` case-insensitively (lower(email)).
   * Usually one; several when users share an address.
   */
  findIdsByEmail(tenantId: string, email: string): Promise<string[]>;
  /**
   * True when the user is a member of the tenant. Inside a transaction the membership row stays
   * locked (shared) until commit, so the user cannot leave the tenant half-way through.
   */
  holdMembership(tenantId: string, userId: string): Promise<boolean>;
}
