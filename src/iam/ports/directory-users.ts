import type { AttributeKind, DirectoryFilter } from "./directory-filter.js";

/**
 * The users a tenant's directory (SCIM 2.0) sees and provisions: the tenant's members, and the
 * users the directory provisioned and has not deleted (deactivated ones are no longer members).
 */

/** The SCIM attributes kept as the directory sent them (the user row holds the rest). */
export interface DirectoryUserAttributes {
  readonly givenName?: string;
  readonly familyName?: string;
  readonly formatted?: string;
  readonly displayName?: string;
  readonly emails?: readonly { readonly value: string; readonly type?: string; readonly primary?: boolean }[];
}

export interface DirectoryUser {
  /** The user id: the SCIM `id`, and the id that member lists show. */
  readonly id: string;
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly externalId: string | null;
  readonly attributes: DirectoryUserAttributes;
  /** A member of the tenant. */
  readonly active: boolean;
  readonly createdAt: Date;
  readonly lastModified: Date;
}

/** The attributes a filter of users may name, and how each compares. */
export const USER_FILTER_ATTRIBUTES = {
  id: "exact",
  userName: "text",
  externalId: "exact",
  displayName: "text",
  "name.givenName": "text",
  "name.familyName": "text",
  "emails.value": "text",
  active: "boolean",
  "meta.created": "time",
  "meta.lastModified": "time",
} as const satisfies Record<string, AttributeKind>;
export type FilterableUserAttribute = keyof typeof USER_FILTER_ATTRIBUTES;
export type UserFilter = DirectoryFilter<FilterableUserAttribute>;

export interface DirectoryUserPage {
  readonly totalResults: number;
  readonly users: readonly DirectoryUser[];
}

/** A user row's profile as the directory sets it. */
export interface DirectoryProfile {
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
}

export interface DirectoryAccount {
  readonly profile: DirectoryProfile;
  readonly memberElsewhere: boolean;
}

export interface DirectoryRecord {
  readonly externalId: string | null;
  readonly attributes: DirectoryUserAttributes;
}

export interface CreatedRecord {
  readonly attributes: DirectoryUserAttributes;
  readonly createdAt: Date;
}

export interface DirectoryUsers {
  /** The user as the tenant's directory sees it, or null (not a member, never provisioned, or deleted). */
  find(tenantId: string, userId: string): Promise<DirectoryUser | null>;
  /** Ordered by id; `startIndex` counts from 1 (SCIM's). */
  list(tenantId: string, filter: UserFilter | null, startIndex: number, count: number): Promise<DirectoryUserPage>;
  /** The account with this username, ignoring case, in any tenant or none. */
  findAccountIdByUsername(username: string): Promise<string | null>;
  /** Whether the tenant's directory deleted or deactivated the user (who must not join it on their own). */
  isWithdrawn(tenantId: string, userId: string): Promise<boolean>;
  /**
   * A new user row with the directory's record of them, in one statement, unless an account has
   * the username already (ignoring case): null then, and nothing written. Resolves to the record as
   * stored (its attributes as the database keeps them) and when it was made.
   */
  createAccountWithRecord(tenantId: string, id: string, profile: DirectoryProfile, record: DirectoryRecord): Promise<CreatedRecord | null>;
  /** A new user row; a username taken ignoring case throws ConflictError. */
  createAccount(id: string, profile: DirectoryProfile): Promise<void>;
  /**
   * The account's profile, and whether it is a member of a tenant other than this one (its
   * profile is then not this tenant's directory's to change); null when there is no such account.
   */
  findAccount(tenantId: string, userId: string): Promise<DirectoryAccount | null>;
  /**
   * Rewrites the user row's profile for the tenant's directory and, when anything changed,
   * records `user.profile_changed` in the tenant (and the system scope) with the directory as its
   * actor; a username taken ignoring case throws ConflictError.
   */
  updateAccount(tenantId: string, id: string, profile: DirectoryProfile): Promise<void>;
  /** Creates or replaces what the directory said of the user, and un-deletes it. */
  saveRecord(tenantId: string, userId: string, record: DirectoryRecord): Promise<void>;
  /** Marks the user deleted by the directory (hidden from it, kept to bar a rejoin). */
  markDeleted(tenantId: string, userId: string, at: Date): Promise<void>;
}
