import type { ObjectRef } from "../../shared-kernel/authorization/authorization-port.js";

/**
 * Which IAM objects belong to a tenant. SpiceDB knows who may do what, not which tenant an object
 * lives in: a user who belongs to two tenants holds relationships in both, and a question asked in
 * one tenant must never be answered with the other's objects.
 */
export interface TenantResources {
  /** The refs among `refs` (workspaces, groups, API keys, the tenant itself) that are in the tenant, as `type:id`. */
  inTenant(tenantId: string, refs: readonly ObjectRef[]): Promise<Set<string>>;
}

export function refKey(ref: ObjectRef): string {
  return `${ref.type}:${ref.id}`;
}
