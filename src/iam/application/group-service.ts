/**
 * Use cases of groups, scoped to the caller's tenant. Permissions come from the authorization
 * engine (group view / manage); membership facts and the last-admin rule come from PostgreSQL,
 * read under row locks inside the unit of work.
 *
 * Visibility (DESIGN §3.3): a group the caller cannot view, or one of another tenant, is "not
 * found" on every operation; "forbidden" only when the caller can view it but not manage it.
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../shared-kernel/ids.js";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { ConflictError, ForbiddenError, InvalidInputError, LastAdminError, NotFoundError } from "../domain/errors.js";
import { DIRECTORY_OWNS_MEMBERS, Group, type GroupMember } from "../domain/group.js";
import type { GroupRole } from "../domain/roles.js";
import type { GroupRecord } from "../ports/group-repository.js";
import type { Repositories } from "../ports/repositories.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { accessTo } from "./access-check.js";
import { NO_TENANT_ACCESS } from "./authentication-service.js";
import type { Caller } from "./caller.js";
import type { GroupOperation, GroupServiceProbe } from "./group-service-probe.js";
import { writeAsMember, type HoldRefusals } from "./member-hold.js";
import { holdTenantMember, resolveTenantMemberByEmail } from "./member-lookup.js";
import { reasonOf } from "./probe-fields.js";

/** A group with its members, admins first. */
export type GroupDetails = GroupRecord;

/** Who to add: a user id, or an email matched case-insensitively among the tenant's members. */
export type MemberReference = { readonly userId: string } | { readonly email: string };

export interface GroupServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  /** Repositories for reads outside a transaction. Must see committed writes at once (the primary). */
  readonly repositories: Repositories;
  readonly authorization: AuthorizationPort;
  readonly probe: GroupServiceProbe;
  readonly clock?: () => Date;
}

const GROUP_NOT_FOUND = "Group not found";

export class GroupService {
  private readonly clock: () => Date;

  constructor(private readonly deps: GroupServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  private probe(caller: Caller, context: ObservationContext): GroupServiceProbe {
    return this.deps.probe.withContext(context.with({ userId: caller.userId, tenantId: caller.tenantId }));
  }

  /** Creates a group in the caller's tenant; the caller becomes its admin. No permission needed beyond the tenant. */
  async createGroup(caller: Caller, name: string, context = ObservationContext.empty): Promise<GroupDetails> {
    const probe = this.probe(caller, context);
    // Built inside the work: the unit of work may run it again after a deadlock.
    const group = await this.deps.unitOfWork.run(async (tx) => {
      const group = Group.create({ id: newUlid(), tenantId: caller.tenantId, name, creatorId: caller.userId, now: this.clock() });
      await writeAsMember(tx, caller, creationRefusals(caller), () => tx.repositories.groups.add(group));
      tx.record(...group.pullEvents());
      return group;
    });
    probe.groupCreated({ groupId: group.id, groupName: group.name });
    return detailsOf(group);
  }

  /** The groups of the caller's tenant the caller can view (members, admins, tenant admins). */
  async listGroups(caller: Caller, context = ObservationContext.empty): Promise<readonly GroupDetails[]> {
    const user = { type: "user", id: caller.userId };
    // The schema gives tenant admins `view` on every group of their tenant (tenant->administrate):
    // one cached check spares them a LookupResources over every group.
    const resource = { type: "tenant", id: caller.tenantId };
    const administers = await this.deps.authorization.check({ resource, permission: "administrate", subject: user });
    const groups = administers
      ? await this.deps.repositories.groups.listByTenant(caller.tenantId)
      : await this.deps.repositories.groups.listByIds(caller.tenantId, await this.deps.authorization.lookupResources("group", "view", user));
    this.probe(caller, context).groupsListed({ count: groups.length });
    return groups;
  }

  async getGroup(caller: Caller, groupId: string): Promise<GroupDetails> {
    return detailsOf(await this.visibleGroup(caller, groupId));
  }

  async listMembers(caller: Caller, groupId: string): Promise<GroupMember[]> {
    return (await this.visibleGroup(caller, groupId)).memberList;
  }

  /** Renaming to the current name succeeds without a change. */
  async renameGroup(caller: Caller, groupId: string, name: string, context = ObservationContext.empty): Promise<GroupDetails> {
    const probe = this.probe(caller, context);
    await this.requireManage(caller, groupId, probe);
    const { group, changed } = await this.deps.unitOfWork.run(async (tx) => {
      const group = await this.lockGroup(tx, caller, groupId);
      group.rename(name, this.clock());
      if (group.nameChanged) {
        await tx.repositories.groups.save(group);
        tx.record(...group.pullEvents());
      }
      return { group, changed: group.nameChanged };
    });
    if (changed) probe.groupRenamed({ groupId, groupName: group.name });
    return detailsOf(group);
  }

  /**
   * Deletes the group and, in the same transaction, every workspace role it holds (no grant to a
   * missing group is left behind). Refused while the group is the only admin of a workspace.
   */
  async deleteGroup(caller: Caller, groupId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    await this.requireManage(caller, groupId, probe);
    const grantsRemoved = await lastAdminReported(probe, groupId, "delete", () =>
      this.deps.unitOfWork.run(async (tx) => {
        const groups = tx.repositories.groups;
        // Lock order workspaces → group, the order in which workspace changes reach a group
        // (a new grant's foreign key waits on the group row), so the two never deadlock.
        await groups.lockWorkspaceGrants(groupId);
        const group = await groups.lockForDeletion(groupId);
        if (group === null || group.tenantId !== caller.tenantId) throw new NotFoundError(GROUP_NOT_FOUND);
        // Again under the group lock: grants committed meanwhile are included, none can follow.
        const grants = await groups.lockWorkspaceGrants(groupId);
        group.markDeleted(grants, this.clock());
        await groups.remove(group);
        tx.record(...group.pullEvents());
        return grants.length;
      }),
    );
    probe.groupDeleted({ groupId, workspaceGrantsRemoved: grantsRemoved });
  }

  /**
   * Adds a member of the caller's tenant to the group, or replaces their role. The same role
   * again is an idempotent success.
   */
  async addMember(
    caller: Caller,
    groupId: string,
    who: MemberReference,
    role: GroupRole,
    context = ObservationContext.empty,
  ): Promise<GroupMember> {
    const probe = this.probe(caller, context);
    // Permission first: nothing about users is looked up for a caller who may not manage the group.
    await this.requireManage(caller, groupId, probe, true);
    const { userId, outcome } = await lastAdminReported(probe, groupId, "add_member", () =>
      this.deps.unitOfWork.run(async (tx) => {
        // Lock order tenant membership → group, as tenant-level changes reach groups.
        const userId = await this.resolveTenantMember(tx, caller.tenantId, who);
        const group = await this.lockGroup(tx, caller, groupId);
        const outcome = group.addMember(userId, role, this.clock());
        if (outcome !== "unchanged") {
          await tx.repositories.groups.save(group);
          tx.record(...group.pullEvents());
        }
        return { userId, outcome };
      }),
    );
    if (outcome === "added") probe.memberAdded({ groupId, memberUserId: userId, role });
    if (outcome === "role_changed") probe.memberRoleChanged({ groupId, memberUserId: userId, role });
    return { userId, role };
  }

  /** Setting the role a member already holds succeeds without a change. */
  async changeMemberRole(
    caller: Caller,
    groupId: string,
    userId: string,
    role: GroupRole,
    context = ObservationContext.empty,
  ): Promise<GroupMember> {
    const probe = this.probe(caller, context);
    await this.requireManage(caller, groupId, probe, true);
    const changed = await lastAdminReported(probe, groupId, "change_member_role", () =>
      this.deps.unitOfWork.run(async (tx) => {
        const group = await this.lockGroup(tx, caller, groupId);
        group.changeMemberRole(userId, role, this.clock());
        const events = group.pullEvents();
        if (events.length === 0) return false;
        await tx.repositories.groups.save(group);
        tx.record(...events);
        return true;
      }),
    );
    if (changed) probe.memberRoleChanged({ groupId, memberUserId: userId, role });
    return { userId, role };
  }

  async removeMember(caller: Caller, groupId: string, userId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    await this.requireManage(caller, groupId, probe, true);
    await lastAdminReported(probe, groupId, "remove_member", () =>
      this.deps.unitOfWork.run(async (tx) => {
        const group = await this.lockGroup(tx, caller, groupId);
        group.removeMember(userId, this.clock());
        await tx.repositories.groups.save(group);
        tx.record(...group.pullEvents());
      }),
    );
    probe.memberRemoved({ groupId, memberUserId: userId });
  }

  /** The group, if it belongs to the caller's tenant and the caller can view it; else not found. */
  private async visibleGroup(caller: Caller, groupId: string): Promise<Group> {
    const group = await this.deps.repositories.groups.findById(groupId);
    if (group === null || group.tenantId !== caller.tenantId) throw new NotFoundError(GROUP_NOT_FOUND);
    const canView = await this.deps.authorization.check({
      resource: { type: "group", id: groupId },
      permission: "view",
      subject: { type: "user", id: caller.userId },
    });
    if (!canView) throw new NotFoundError(GROUP_NOT_FOUND);
    return group;
  }

  /**
   * Not found unless the caller can view the group and it belongs to their tenant; forbidden when
   * they can view but not manage it. One (usually cached) check in the common case.
   */
  private async requireManage(caller: Caller, groupId: string, probe: GroupServiceProbe, ofMembers = false): Promise<void> {
    const outcome = await accessTo(this.deps.authorization, { type: "group", id: groupId }, caller, "manage");
    if (outcome === "hidden") throw new NotFoundError(GROUP_NOT_FOUND);
    if (outcome === "allowed") return; // the tenant is checked under the lock, inside the transaction
    const group = await this.deps.repositories.groups.findById(groupId);
    if (group === null || group.tenantId !== caller.tenantId) throw new NotFoundError(GROUP_NOT_FOUND);
    // Tenant admins see a directory's group but cannot change its members: they are told why.
    if (ofMembers && group.directoryManaged) throw new ConflictError(DIRECTORY_OWNS_MEMBERS);
    probe.groupAccessDenied({ groupId, permission: "manage" });
    throw new ForbiddenError(`User ${caller.userId} lacks manage permission on group ${groupId}`);
  }

  private async lockGroup(tx: TransactionContext, caller: Caller, groupId: string): Promise<Group> {
    const group = await tx.repositories.groups.lockById(groupId);
    // Gone since the permission check, or a group of another tenant: the same answer.
    if (group === null || group.tenantId !== caller.tenantId) throw new NotFoundError(GROUP_NOT_FOUND);
    return group;
  }

  private async resolveTenantMember(tx: TransactionContext, tenantId: string, who: MemberReference): Promise<string> {
    if ("email" in who) return resolveTenantMemberByEmail(tx.repositories, tenantId, who.email, GROUP_NOT_FOUND);
    const userId = who.userId.trim();
    if (userId === "") throw new InvalidInputError("Invalid user ID format");
    await holdTenantMember(tx.repositories, tenantId, userId, GROUP_NOT_FOUND); // a deleted tenant took its groups
    return userId;
  }
}

/** Runs a change, reporting a refusal of the last-admin rule before passing it on. */
async function lastAdminReported<T>(probe: GroupServiceProbe, groupId: string, operation: GroupOperation, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof LastAdminError) probe.lastAdminProtected({ groupId, operation, reason: reasonOf(error) });
    throw error;
  }
}

/** A group's creator who left the tenant, or a tenant deleted, while the group was being created. */
function creationRefusals(caller: Caller): HoldRefusals {
  return {
    noTenant: () => new NotFoundError(`Tenant ${caller.tenantId} not found`),
    notMember: () => new ForbiddenError(NO_TENANT_ACCESS),
  };
}

function detailsOf(group: Group): GroupDetails {
  return { id: group.id, name: group.name, members: group.memberList };
}
