import type { UserProfile } from "../domain/user.js";

/** What a just-in-time provisioning did to the user row. */
export type ProvisionOutcome = "created" | "updated" | "unchanged";

export interface Provisioned {
  readonly outcome: ProvisionOutcome;
  /** True when some tenant invited `invitationEmail` (always false without one). */
  readonly invited: boolean;
}

/** An account kept although its username differs only in case from an older account's. */
export interface KeptUsernameClash {
  readonly id: string;
  readonly username: string;
}

/** Persistence of users (rows mirror the identity provider's claims). */
export interface UserRepository {
  /**
   * Creates the user or brings username, name and email up to date, in one statement that writes
   * nothing when they already match, and says in the same statement whether `invitationEmail`
   * (lower-cased; the token's email when it is verified, else null) has pending invitations. A
   * username owned by another user, ignoring case, throws ConflictError and changes nothing.
   */
  provision(profile: UserProfile, invitationEmail: string | null): Promise<Provisioned>;
  /**
   * The user id a token's subject acts as: the account a directory (SCIM) provisioned for this
   * username, once linked to the subject, else the subject itself. The first sign-in of such a
   * user links them, in this statement: an account that a directory provisioned, that no subject
   * was linked to yet, whose username equals the token's ignoring case, while the subject has no
   * account of its own.
   */
  userIdOfSubject(subject: string, username: string): Promise<string>;
  /** The stored user, or null. */
  findById(id: string): Promise<UserProfile | null>;
  /** Users among `ids` who are members (any role) of the tenant. */
  findTenantMembersByIds(tenantId: string, ids: readonly string[]): Promise<UserProfile[]>;
  /**
   * Members of the tenant whose username, name or email contains `text` (case-insensitive,
   * `%` and `_` taken literally), at most `limit`.
   */
  searchTenantMembers(tenantId: string, text: string, limit: number): Promise<UserProfile[]>;
  /** Accounts that keep a username clashing in case with an older one's (from before the rule). */
  keptUsernameClashes(): Promise<KeptUsernameClash[]>;
}
