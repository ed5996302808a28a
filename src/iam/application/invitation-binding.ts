/**
 * Binding of pending invitations at sign-in. Implemented by the tenant service (it owns the Tenant
 * aggregate); used by authentication when provisioning says that the caller's verified email has
 * invitations waiting.
 */
export interface InvitationBinding {
  /**
   * Makes the user a member of every tenant that invited `email` (lower-cased), with the invited
   * role, and deletes those invitations. Safe under concurrency: each invitation binds once.
   * Returns the ids of the tenants joined.
   */
  bindInvitations(userId: string, email: string): Promise<readonly string[]>;
}
