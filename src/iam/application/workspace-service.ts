/**
 * Workspaces of the caller's tenant: the tree, its names and its members. Every operation checks
 * the caller's permission in SpiceDB first, then reads and writes PostgreSQL in one unit of work;
 * the recorded events become relationships before the unit of work resolves (read-your-writes).
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { isUlid } from "../../shared-kernel/ids.js";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { MemberType, WorkspaceRole } from "../domain/roles.js";
import { Workspace, normaliseMemberId, type WorkspaceMember } from "../domain/workspace.js";
import type { Repositories } from "../ports/repositories.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import type { WorkspaceRecord } from "../ports/workspace-repository.js";
import { accessTo } from "./access-check.js";
import type { Caller } from "./caller.js";
import { writeAsMember } from "./member-hold.js";
import { holdTenantMember, resolveTenantMemberByEmail } from "./member-lookup.js";
import { reasonOf } from "./probe-fields.js";
import type { WorkspaceServiceProbe } from "./workspace-service-probe.js";

export const WORKSPACE_FORBIDDEN = "You do not have permission to perform this action";

export interface WorkspaceServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  /** Repositories over the primary database, for reads outside a transaction. */
  readonly repositories: Repositories;
  readonly authorization: AuthorizationPort;
  readonly probe: WorkspaceServiceProbe;
  readonly clock?: () => Date;
}

/** Who to add: a member id (user id or group id), or a user's email. */
export interface MemberToAdd {
  readonly memberId?: string | null;
  readonly email?: string | null;
  readonly memberType: MemberType;
  readonly role: WorkspaceRole;
}

export class WorkspaceService {
  private readonly clock: () => Date;

  constructor(private readonly deps: WorkspaceServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  private probe(caller: Caller, context: ObservationContext): WorkspaceServiceProbe {
    return this.deps.probe.withContext(context.with({ userId: caller.userId, tenantId: caller.tenantId }));
  }

  /** Throws NotFound when the caller cannot view the workspace, Forbidden when they cannot act. */
  private async authorize(caller: Caller, workspaceId: string, permission: string, probe: WorkspaceServiceProbe): Promise<void> {
    const outcome = await accessTo(this.deps.authorization, { type: "workspace", id: workspaceId }, caller, permission);
    if (outcome === "allowed") return;
    probe.workspaceAccessDenied({ workspaceId, permission });
    if (outcome === "hidden") throw new NotFoundError(`Workspace ${workspaceId} not found`);
    throw new ForbiddenError(WORKSPACE_FORBIDDEN);
  }

  private static async loadForUpdate(tx: TransactionContext, caller: Caller, workspaceId: string): Promise<Workspace> {
    const workspace = await tx.repositories.workspaces.loadForUpdate(caller.tenantId, workspaceId);
    if (workspace === null) throw new NotFoundError(`Workspace ${workspaceId} not found`);
    return workspace;
  }

  private static async persist(tx: TransactionContext, workspace: Workspace): Promise<void> {
    await tx.repositories.workspaces.save(workspace);
    tx.record(...workspace.pullEvents());
  }

  /** A child of `parentWorkspaceId`; the caller becomes its admin. */
  async create(
    caller: Caller,
    input: { name: string; parentWorkspaceId: string },
    context = ObservationContext.empty,
  ): Promise<WorkspaceRecord> {
    const probe = this.probe(caller, context);
    const parentId = input.parentWorkspaceId;
    const outcome = await accessTo(this.deps.authorization, { type: "workspace", id: parentId }, caller, "create_child");
    if (outcome !== "allowed") {
      probe.workspaceAccessDenied({ workspaceId: parentId, permission: "create_child" });
      if (outcome === "hidden") throw new NotFoundError(`Parent workspace ${parentId} not found`);
      throw new ForbiddenError(WORKSPACE_FORBIDDEN);
    }
    const hiddenParent = () => new NotFoundError(`Parent workspace ${parentId} not found`);
    const refusals = { noTenant: hiddenParent, notMember: hiddenParent };
    try {
      const workspace = await this.deps.unitOfWork.run(async (tx) => {
        // No read of the parent first: saving checks that it exists in the caller's tenant.
        const created = Workspace.create({
          name: input.name,
          tenantId: caller.tenantId,
          parentWorkspaceId: parentId,
          creatorId: caller.userId,
          now: this.clock(),
        });
        await writeAsMember(tx, caller, refusals, () => WorkspaceService.persist(tx, created));
        return created;
      });
      probe.workspaceCreated({
        workspaceId: workspace.id,
        tenantId: workspace.tenantId,
        name: workspace.name,
        parentWorkspaceId: workspace.parentWorkspaceId,
        isRoot: false,
        creatorId: caller.userId,
      });
      return workspace.snapshot();
    } catch (error) {
      probe.workspaceCreationFailed({ tenantId: caller.tenantId, name: input.name, reason: reasonOf(error) });
      throw error;
    }
  }

  /**
   * The root workspace of a tenant, unless it has one. Used inside the tenant service's units of
   * work, so it takes the transaction rather than opening its own.
   */
  static async createRoot(
    tx: TransactionContext,
    input: { tenantId: string; name: string; adminId: string | null; now: Date },
  ): Promise<Workspace> {
    const root = Workspace.createRoot(input);
    await WorkspaceService.persist(tx, root);
    return root;
  }

  async get(caller: Caller, workspaceId: string, context = ObservationContext.empty): Promise<WorkspaceRecord> {
    const probe = this.probe(caller, context);
    // The permission check and the row read are independent: run them together.
    const [outcome, workspace] = await Promise.all([
      accessTo(this.deps.authorization, { type: "workspace", id: workspaceId }, caller, "view"),
      this.deps.repositories.workspaces.findById(caller.tenantId, workspaceId),
    ]);
    if (outcome !== "allowed") probe.workspaceAccessDenied({ workspaceId, permission: "view" });
    if (outcome !== "allowed" || workspace === null) {
      if (workspace === null) probe.workspaceNotFound({ workspaceId });
      throw new NotFoundError(`Workspace ${workspaceId} not found`);
    }
    probe.workspaceRetrieved({ workspaceId });
    return workspace;
  }

  /** The tenant's workspaces the caller can view: one LookupResources, then one SQL query. */
  async list(caller: Caller, context = ObservationContext.empty): Promise<WorkspaceRecord[]> {
    const ids = await this.deps.authorization.lookupResources("workspace", "view", { type: "user", id: caller.userId });
    const workspaces = await this.deps.repositories.workspaces.listByIds(caller.tenantId, ids);
    this.probe(caller, context).workspacesListed({ count: workspaces.length });
    return workspaces;
  }

  async rename(caller: Caller, workspaceId: string, name: string, context = ObservationContext.empty): Promise<WorkspaceRecord> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, workspaceId, "manage", probe);
    const workspace = await this.deps.unitOfWork.run(async (tx) => {
      const loaded = await WorkspaceService.loadForUpdate(tx, caller, workspaceId);
      loaded.rename(name, this.clock());
      await WorkspaceService.persist(tx, loaded);
      return loaded;
    });
    probe.workspaceRenamed({ workspaceId, name });
    return workspace.snapshot();
  }

  /** Deletes a workspace that is neither the root nor a parent. */
  async delete(caller: Caller, workspaceId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, workspaceId, "manage", probe);
    try {
      await this.deps.unitOfWork.run(async (tx) => {
        const workspace = await WorkspaceService.loadForUpdate(tx, caller, workspaceId);
        if (workspace.isRoot) throw new ConflictError("Root workspace cannot be deleted");
        // The foreign key also refuses a child created concurrently; this answers the common case.
        if (await tx.repositories.workspaces.hasChildren(workspace.id)) {
          throw new ConflictError("Cannot delete workspace with children");
        }
        workspace.markForDeletion(this.clock());
        await tx.repositories.workspaces.delete([workspace]);
        tx.record(...workspace.pullEvents());
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) probe.workspaceDeletionFailed({ workspaceId, reason: reasonOf(error) });
      throw error;
    }
    probe.workspaceDeleted({ workspaceId });
  }

  async listMembers(caller: Caller, workspaceId: string, context = ObservationContext.empty): Promise<WorkspaceMember[]> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, workspaceId, "view", probe);
    const members = await this.deps.repositories.workspaces.listMembers(caller.tenantId, workspaceId);
    if (members === null) throw new NotFoundError(`Workspace ${workspaceId} not found`);
    return members;
  }

  /**
   * Gives a user or group a role on the workspace, replacing another role they hold; the same role
   * again is an idempotent success. Users must be members of the tenant, groups must belong to it.
   */
  async addMember(caller: Caller, workspaceId: string, input: MemberToAdd, context = ObservationContext.empty): Promise<WorkspaceMember> {
    const probe = this.probe(caller, context);
    // Permission first: an unauthorised caller must not learn whether an email belongs to a user.
    await this.authorize(caller, workspaceId, "manage", probe);
    const member = await this.deps.unitOfWork.run(async (tx) => {
      // Taken before the workspace lock, like the tenant's member removal, so the two never deadlock.
      const memberId = await this.heldMemberIdOf(tx, caller.tenantId, workspaceId, input);
      const workspace = await WorkspaceService.loadForUpdate(tx, caller, workspaceId);
      if (input.memberType === "group" && !(await tx.repositories.workspaces.groupExists(caller.tenantId, memberId))) {
        throw new InvalidInputError(`Group ${memberId} does not exist`);
      }
      workspace.addMember(memberId, input.memberType, input.role, this.clock());
      await WorkspaceService.persist(tx, workspace);
      return { memberId, memberType: input.memberType, role: input.role };
    });
    probe.memberAdded({ workspaceId, ...member });
    return member;
  }

  async changeMemberRole(
    caller: Caller,
    workspaceId: string,
    member: { memberId: string; memberType: MemberType },
    role: WorkspaceRole,
    context = ObservationContext.empty,
  ): Promise<WorkspaceMember> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, workspaceId, "manage", probe);
    const memberId = normaliseMember(member.memberId, member.memberType);
    await this.deps.unitOfWork.run(async (tx) => {
      const workspace = await WorkspaceService.loadForUpdate(tx, caller, workspaceId);
      workspace.changeMemberRole(memberId, member.memberType, role, this.clock());
      await WorkspaceService.persist(tx, workspace);
    });
    probe.memberRoleChanged({ workspaceId, memberId, memberType: member.memberType, role });
    return { memberId, memberType: member.memberType, role };
  }

  async removeMember(
    caller: Caller,
    workspaceId: string,
    member: { memberId: string; memberType: MemberType },
    context = ObservationContext.empty,
  ): Promise<void> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, workspaceId, "manage", probe);
    const memberId = normaliseMember(member.memberId, member.memberType);
    await this.deps.unitOfWork.run(async (tx) => {
      const workspace = await WorkspaceService.loadForUpdate(tx, caller, workspaceId);
      workspace.removeMember(memberId, member.memberType, this.clock());
      await WorkspaceService.persist(tx, workspace);
    });
    probe.memberRemoved({ workspaceId, memberId, memberType: member.memberType });
  }

  /**
   * The member to add. A user must be a member of the tenant, and their membership is then held
   * until commit; emails are matched among the tenant's members only.
   */
  private async heldMemberIdOf(tx: TransactionContext, tenantId: string, workspaceId: string, input: MemberToAdd): Promise<string> {
    const gone = `Workspace ${workspaceId} not found`; // the tenant was deleted, with its workspaces
    if (input.email != null && input.email.trim() !== "") {
      if (input.memberType !== "user") throw new InvalidInputError("Email can only be used when member_type is 'user'");
      return resolveTenantMemberByEmail(tx.repositories, tenantId, input.email, gone);
    }
    const memberId = normaliseMember(input.memberId ?? "", input.memberType);
    if (input.memberType === "user") await holdTenantMember(tx.repositories, tenantId, memberId, gone);
    return memberId;
  }
}

/** Group ids are ULIDs, accepted in any case; user ids are opaque and only trimmed. */
function normaliseMember(memberId: string, memberType: MemberType): string {
  const trimmed = normaliseMemberId(memberId);
  if (memberType === "group" && isUlid(trimmed.toUpperCase())) return trimmed.toUpperCase();
  return trimmed;
}
