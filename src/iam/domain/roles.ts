/** Role and member-type value objects. One role per member per resource. */
export const TENANT_ROLES = ["admin", "member"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const WORKSPACE_ROLES = ["admin", "editor", "member"] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

export const GROUP_ROLES = ["admin", "member"] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

export const MEMBER_TYPES = ["user", "group"] as const;
export type MemberType = (typeof MEMBER_TYPES)[number];

export function isTenantRole(value: string): value is TenantRole {
  return (TENANT_ROLES as readonly string[]).includes(value);
}

export function isWorkspaceRole(value: string): value is WorkspaceRole {
  return (WORKSPACE_ROLES as readonly string[]).includes(value);
}

export function isGroupRole(value: string): value is GroupRole {
  return (GROUP_ROLES as readonly string[]).includes(value);
}

export function isMemberType(value: string): value is MemberType {
  return (MEMBER_TYPES as readonly string[]).includes(value);
}
