/** Persistence of the tenant aggregate, and the cascades a tenant's lifecycle drives. */
import type { MemberSnapshot } from "../domain/events.js";
import type { GroupRole, TenantRole } from "../domain/roles.js";
import type { Tenant, TenantState } from "../domain/tenant.js";

export type TenantRecord = TenantState;

export interface TenantMemberRecord {
  readonly userId: string;
  readonly role: TenantRole;
}

/** A group of the tenant in which the user holds a role, with the group's admin count. */
export interface GroupRoleOfUser {
  readonly groupId: string;
  readonly groupName: string;
  readonly role: GroupRole;
  readonly adminCount: number;
}

export interface DeletedGroup {
  readonly groupId: string;
  readonly name: string;
  readonly members: readonly MemberSnapshot[];
}

export interface RemovedApiKey {
  readonly apiKeyId: string;
  readonly userId: string;
}

export interface TenantRepository {
  findById(id: string): Promise<TenantRecord | null>;
  listByIds(ids: readonly string[]): Promise<TenantRecord[]>;
  listMembers(tenantId: string): Promise<TenantMemberRecord[]>;
  /** Loads the tenant with its members, locking the tenant and member rows until the transaction ends. */
  loadForUpdate(id: string): Promise<Tenant | null>;
  /** Writes a new tenant or its member changes. A name its creator already uses is a ConflictError. */
  save(tenant: Tenant): Promise<void>;
  /** The user's role in the tenant, or null (a plain read, no lock). */
  memberRole(tenantId: string, userId: string): Promise<TenantRole | null>;
  delete(tenant: Tenant): Promise<void>;

  // ---- The default tenant of single-tenant mode, found by its marker ----
  /** Serialises default-tenant set-up among instances starting together, until the transaction ends. */
  lockDefaultTenantSetup(): Promise<void>;
  findDefault(): Promise<TenantRecord | null>;
  /**
   * Marks the oldest tenant of this name without a creator as the default one (databases from
   * before the marker found it by name); null when there is none.
   */
  adoptDefault(name: string): Promise<TenantRecord | null>;
  /** Inserts the tenant, marked as the default one. */
  insertDefault(tenant: Tenant): Promise<void>;

  /** The user's group roles in the tenant, with each group's row locked. */
  groupRolesOfUserForUpdate(tenantId: string, userId: string): Promise<GroupRoleOfUser[]>;
  /** Deletes the user's group member rows in the tenant. */
  removeUserFromGroups(tenantId: string, userId: string): Promise<void>;
  /** Revokes the user's live API keys in the tenant; returns the revoked keys. */
  revokeApiKeysOfUser(tenantId: string, userId: string, now: Date): Promise<RemovedApiKey[]>;
  /** Deletes every group of the tenant (with their member rows); returns member snapshots. */
  deleteGroupsOfTenant(tenantId: string): Promise<DeletedGroup[]>;
  /** Deletes every API key of the tenant; returns what was deleted. */
  deleteApiKeysOfTenant(tenantId: string): Promise<RemovedApiKey[]>;
}
