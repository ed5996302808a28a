/**
 * Tenant roles as every path grants them (the member routes, the default tenant, invitations):
 * the tenant row and its member rows locked first (the lock order of every tenant-level change),
 * and tenant admins kept admins of the tenant's root workspace.
 */
import { LastAdminError, NotFoundError } from "../domain/errors.js";
import type { TenantRole } from "../domain/roles.js";
import type { MembershipChange, Tenant } from "../domain/tenant.js";
import type { TransactionContext } from "../ports/unit-of-work.js";

export async function loadTenantForUpdate(tx: TransactionContext, tenantId: string): Promise<Tenant> {
  const tenant = await tx.repositories.tenants.loadForUpdate(tenantId);
  if (tenant === null) throw new NotFoundError(`Tenant ${tenantId} not found`);
  return tenant;
}

/**
 * The tenant locked for a change of one member (the same locks, without reading or locking the
 * other members' rows): what every change of a single membership needs (that member's role, the
 * admin count), in a tenant of any size.
 */
export async function loadTenantAroundMember(tx: TransactionContext, tenantId: string, userId: string): Promise<Tenant> {
  const tenant = await tx.repositories.tenants.loadForMemberChange(tenantId, userId);
  if (tenant === null) throw new NotFoundError(`Tenant ${tenantId} not found`);
  return tenant;
}

/**
 * The tenant locked for adding someone who is no member of it (an account the transaction
 * created, a withdrawn one coming back), or for keeping its members from leaving meanwhile: its
 * row alone is locked and no member is read.
 */
export async function loadTenantForNewMember(tx: TransactionContext, tenantId: string): Promise<Tenant> {
  const tenant = await tx.repositories.tenants.loadForNewMember(tenantId);
  if (tenant === null) throw new NotFoundError(`Tenant ${tenantId} not found`);
  return tenant;
}

/**
 * Gives the user `role` in the locked tenant (adds them, or replaces their other role; the same
 * role again changes nothing in the tenant) and saves it with its events. Admins of the tenant
 * are admins of its root workspace: promotion grants it (re-adding an admin restores it),
 * demotion takes the user's root-workspace role away.
 */
export async function grantTenantRole(
  tx: TransactionContext,
  tenant: Tenant,
  userId: string,
  role: TenantRole,
  grantedBy: string | null,
  now: Date,
): Promise<MembershipChange> {
  const previous = tenant.roleOf(userId);
  const change = tenant.addMember(userId, role, grantedBy, now);
  await tx.repositories.tenants.save(tenant);
  tx.record(...tenant.pullEvents());
  await syncRootWorkspace(tx, tenant.id, userId, previous, role, now);
  return change;
}

async function syncRootWorkspace(
  tx: TransactionContext,
  tenantId: string,
  userId: string,
  previous: TenantRole | null,
  role: TenantRole,
  now: Date,
): Promise<void> {
  if (role !== "admin" && previous !== "admin") return;
  const root = await tx.repositories.workspaces.loadRootForUpdate(tenantId);
  if (root === null) return;
  if (role === "admin") {
    root.addMember(userId, "user", "admin", now);
  } else if (root.roleOf(userId, "user") !== null) {
    if (root.isSoleAdmin(userId, "user")) {
      throw new LastAdminError(`Cannot demote the user: they are the last admin of the root workspace '${root.name}'`);
    }
    root.removeMember(userId, "user", now);
  }
  await tx.repositories.workspaces.save(root);
  tx.record(...root.pullEvents());
}

/** What a member's removal took with it. */
export interface Departure {
  readonly workspaces: number;
  readonly groups: number;
  readonly apiKeys: number;
}

/**
 * The rest of a member's removal from the locked tenant, once `tenant.removeMember` took them
 * out: every role they hold inside it (workspaces, groups) goes and their API keys there are
 * revoked, all saved with their events. Every aggregate applies its own last-admin rule; the
 * first refusal rolls the whole unit of work back.
 */
export async function removeDepartingMember(tx: TransactionContext, tenant: Tenant, userId: string, now: Date): Promise<Departure> {
  const workspaces = await tx.repositories.workspaces.loadAroundUserForUpdate(tenant.id, userId);
  for (const workspace of workspaces) workspace.removeDepartingUser(userId, now);
  const groups = await tx.repositories.groups.lockGroupsOfMember(tenant.id, userId);
  for (const group of groups) group.removeDepartingMember(userId, now);
  const keys = await tx.repositories.apiKeys.lockLiveKeysOfCreator(tenant.id, userId);
  for (const key of keys) key.revokeWithCreator(now);

  // In a few statements however many workspaces and groups they leave.
  await tx.repositories.workspaces.saveAll(workspaces);
  for (const workspace of workspaces) tx.record(...workspace.pullEvents());
  await tx.repositories.groups.saveAll(groups);
  for (const group of groups) tx.record(...group.pullEvents());
  for (const key of keys) {
    await tx.repositories.apiKeys.save(key);
    tx.record(...key.pullEvents());
  }
  await tx.repositories.tenants.save(tenant);
  tx.record(...tenant.pullEvents());
  return { workspaces: workspaces.length, groups: groups.length, apiKeys: keys.length };
}
