/**
 * Every path by which users reach a workspace or group, read from the tables (the source of truth
 * SpiceDB mirrors), for access reviews.
 */

export type AccessPath =
  | { readonly kind: "direct"; readonly role: string }
  | { readonly kind: "group"; readonly groupId: string; readonly groupName: string; readonly role: string; readonly groupRole: string }
  | { readonly kind: "tenant_admin" };

export interface UserAccessPath {
  readonly userId: string;
  /** Null for a user who never signed in (a row kept from before the users table). */
  readonly username: string | null;
  readonly path: AccessPath;
}

export interface AccessPaths {
  /** Paths to the workspace (of `userId` only, when given); null when it is not a workspace of the tenant. */
  toWorkspace(tenantId: string, workspaceId: string, userId?: string): Promise<{ readonly isRoot: boolean; readonly paths: UserAccessPath[] } | null>;
  /** Paths to the group (of `userId` only, when given); null when it is not a group of the tenant. */
  toGroup(tenantId: string, groupId: string, userId?: string): Promise<UserAccessPath[] | null>;
}
