import type { UserProfile } from "../domain/user.js";

/** What a just-in-time provisioning did to the user row. */
export type ProvisionOutcome = "created" | "updated" | "unchanged";

/** Persistence of users (rows mirror the identity provider's claims). */
export interface UserRepository {
  /**
   * Creates the user or brings username, name and email up to date, in one statement that writes
   * nothing when they already match. A username owned by another user throws ConflictError and
   * changes nothing.
   */
  provision(profile: UserProfile): Promise<ProvisionOutcome>;
  /** Users among `ids` who are members (any role) of the tenant. */
  findTenantMembersByIds(tenantId: string, ids: readonly string[]): Promise<UserProfile[]>;
  /**
   * Members of the tenant whose username, name or email contains `text` (case-insensitive,
   * `%` and `_` taken literally), at most `limit`.
   */
  searchTenantMembers(tenantId: string, text: string, limit: number): Promise<UserProfile[]>;
}
