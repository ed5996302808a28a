import type { Group, GroupMember } from "../domain/group.js";
import type { GroupWorkspaceGrant } from "../domain/group-workspace-grant.js";

/** A group as listed: its members admins first, then members, each by user id. */
export interface GroupRecord {
  readonly id: string;
  readonly name: string;
  readonly members: readonly GroupMember[];
}

/**
 * Persistence of the group aggregate (tables groups and group_members) and of the group side of
 * workspace grants (workspace_members rows with member_type 'group'). Groups come back hydrated
 * with their members.
 */
export interface GroupRepository {
  /** Inserts a new group and its members. ConflictError when its tenant has a group of that name. */
  add(group: Group): Promise<void>;
  findById(groupId: string): Promise<Group | null>;
  /**
   * Loads the group and locks its row until the transaction ends, so that member changes and
   * renames of one group run one after the other and the last-admin rule holds under concurrency.
   */
  lockById(groupId: string): Promise<Group | null>;
  /** Like `lockById`, with the stronger lock a deletion needs (it also keeps new workspace grants out). */
  lockForDeletion(groupId: string): Promise<Group | null>;
  /**
   * The groups of `tenantId` that `userId` belongs to, locked in id order, each loaded around the
   * user (`Group.restoreAround`: their membership and the admins only), for removing the user from
   * the tenant: their group roles go with them, unless they are a group's last admin.
   */
  lockGroupsOfMember(tenantId: string, userId: string): Promise<Group[]>;
  /** Every group of `tenantId` with its members, locked in id order (for the tenant's deletion). */
  lockAllOfTenant(tenantId: string): Promise<Group[]>;
  /** The groups of `tenantId` among `groupIds` (others are ignored), by name, in a fixed number of queries. */
  listByIds(tenantId: string, groupIds: readonly string[]): Promise<GroupRecord[]>;
  /**
   * Every group of `tenantId`, by name. At least as recent as every group write committed before
   * the call. It may be a list kept from an earlier call while no group of the tenant changed:
   * then the very same (frozen) list object, so that callers may keep what they derive from it.
   */
  listByTenant(tenantId: string): Promise<readonly GroupRecord[]>;
  /** Writes a rename and member changes. ConflictError when the new name is taken in the tenant. */
  save(group: Group): Promise<void>;
  /**
   * Saves many groups as `save` does: those whose only change is members removed (a member's
   * departure from the tenant) all in one statement, the others one by one.
   */
  saveAll(groups: readonly Group[]): Promise<void>;
  /**
   * The workspace roles the group holds, with each workspace's other admins counted. Locks those
   * workspaces and their admin rows (in id order), so that no concurrent change can leave one of
   * them without an admin while the group's grants are being removed.
   */
  lockWorkspaceGrants(groupId: string): Promise<GroupWorkspaceGrant[]>;
  /** Deletes a group marked deleted: its workspace grants first, then the group and its members. */
  remove(group: Group): Promise<void>;
  /** Deletes groups marked deleted (with their members and grants), in a fixed number of statements. */
  removeAll(groups: readonly Group[]): Promise<void>;
}
