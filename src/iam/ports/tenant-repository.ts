/**
 * Persistence of the tenant aggregate. The cascades of a tenant's lifecycle (its workspaces,
 * groups and API keys) go through those aggregates' own repositories.
 */
import type { TenantRole } from "../domain/roles.js";
import type { Tenant, TenantState } from "../domain/tenant.js";

export type TenantRecord = TenantState;

export interface TenantMemberRecord {
  readonly userId: string;
  readonly role: TenantRole;
}

export interface TenantRepository {
  findById(id: string): Promise<TenantRecord | null>;
  listByIds(ids: readonly string[]): Promise<TenantRecord[]>;
  listMembers(tenantId: string): Promise<TenantMemberRecord[]>;
  /** Loads the tenant with its members, locking the tenant and member rows until the transaction ends. */
  loadForUpdate(id: string): Promise<Tenant | null>;
  /**
   * Loads the tenant for a change of one member's membership (Tenant.rehydrateAround): the tenant
   * row, that member's row and the admins' rows, locked as `loadForUpdate` locks them. The same
   * lock order; the other members' rows are neither read nor locked.
   */
  loadForMemberChange(id: string, userId: string): Promise<Tenant | null>;
  /**
   * Loads the tenant with no member (Tenant.rehydrateAround), locking only its row, the first lock
   * of every tenant-level change: for adding someone who is no member of it (the caller checked,
   * and the lock keeps it so), which no rule about the other members concerns, or for holding the
   * members in place while some of them join something else. One statement fewer than
   * `loadForMemberChange`, and no admin rows locked.
   */
  loadForNewMember(id: string): Promise<Tenant | null>;
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
}
