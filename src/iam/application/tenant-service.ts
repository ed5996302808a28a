/**
 * Tenants: creation with a root workspace, membership (kept in step with the root workspace),
 * and deletion with everything inside. Also the default tenant of single-tenant mode.
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { ForbiddenError, LastAdminError, NotFoundError } from "../domain/errors.js";
import type { IamEvent } from "../domain/events.js";
import { nameOf } from "../domain/names.js";
import type { TenantRole } from "../domain/roles.js";
import { Tenant } from "../domain/tenant.js";
import { Workspace, deepestFirst } from "../domain/workspace.js";
import type { Repositories } from "../ports/repositories.js";
import type { TenantMemberRecord, TenantRecord } from "../ports/tenant-repository.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { accessTo } from "./access-check.js";
import type { AuthenticatedUser, Caller } from "./caller.js";
import type { DefaultTenantAccess } from "./default-tenant-access.js";
import { resolveUserByEmail } from "./member-lookup.js";
import type { TenantServiceProbe } from "./tenant-service-probe.js";
import { WorkspaceService } from "./workspace-service.js";

export const TENANT_MANAGEMENT_DISABLED = "Tenant management is disabled in single-tenant mode";

export interface TenantServiceSettings {
  readonly singleTenantMode: boolean;
  readonly defaultTenantName: string;
  /** Name of every new root workspace; null means the tenant's own name. */
  readonly defaultWorkspaceName: string | null;
}

export interface TenantServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  readonly repositories: Repositories;
  readonly authorization: AuthorizationPort;
  readonly probe: TenantServiceProbe;
  readonly settings: TenantServiceSettings;
  readonly clock?: () => Date;
}

export interface TenantMemberToAdd {
  readonly userId?: string | null;
  readonly email?: string | null;
  readonly role: TenantRole;
}

export class TenantService implements DefaultTenantAccess {
  private readonly clock: () => Date;
  private defaultTenantId: Promise<string> | null = null;

  constructor(private readonly deps: TenantServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  private probe(user: AuthenticatedUser, context: ObservationContext): TenantServiceProbe {
    return this.deps.probe.withContext(context.with({ userId: user.userId }));
  }

  private assertMultiTenant(): void {
    if (this.deps.settings.singleTenantMode) throw new ForbiddenError(TENANT_MANAGEMENT_DISABLED);
  }

  private rootWorkspaceName(tenantName: string): string {
    return this.deps.settings.defaultWorkspaceName ?? tenantName;
  }

  private async authorize(
    user: AuthenticatedUser,
    tenantId: string,
    permission: "view" | "administrate",
    forbidden: string,
    probe: TenantServiceProbe,
  ): Promise<void> {
    const outcome = await accessTo(this.deps.authorization, { type: "tenant", id: tenantId }, user.userId, permission);
    if (outcome === "allowed") return;
    probe.tenantAccessDenied({ tenantId, permission });
    if (outcome === "hidden") throw new NotFoundError(`Tenant ${tenantId} not found`);
    throw new ForbiddenError(forbidden);
  }

  private static async loadForUpdate(tx: TransactionContext, tenantId: string): Promise<Tenant> {
    const tenant = await tx.repositories.tenants.loadForUpdate(tenantId);
    if (tenant === null) throw new NotFoundError(`Tenant ${tenantId} not found`);
    return tenant;
  }

  /** A new tenant (multi-tenant mode only): the creator administers it and its root workspace. */
  async create(user: AuthenticatedUser, name: string, context = ObservationContext.empty): Promise<TenantRecord> {
    const probe = this.probe(user, context);
    this.assertMultiTenant();
    try {
      const { tenant, root } = await this.deps.unitOfWork.run(async (tx) => {
        const now = this.clock();
        const created = Tenant.create({ name, creatorId: user.userId, now });
        await tx.repositories.tenants.save(created);
        tx.record(...created.pullEvents());
        const rootWorkspace = await WorkspaceService.createRoot(tx, {
          tenantId: created.id,
          name: this.rootWorkspaceName(created.name),
          adminId: user.userId,
          now,
        });
        return { tenant: created, root: rootWorkspace };
      });
      probe.tenantCreated({ tenantId: tenant.id, name, creatorId: user.userId, rootWorkspaceId: root.id });
      return { id: tenant.id, name: tenant.name };
    } catch (error) {
      probe.tenantCreationFailed({ name, reason: reasonOf(error) });
      throw error;
    }
  }

  async get(user: AuthenticatedUser, tenantId: string, context = ObservationContext.empty): Promise<TenantRecord> {
    const probe = this.probe(user, context);
    const [outcome, tenant] = await Promise.all([
      accessTo(this.deps.authorization, { type: "tenant", id: tenantId }, user.userId, "view"),
      this.deps.repositories.tenants.findById(tenantId),
    ]);
    if (outcome !== "allowed" || tenant === null) {
      if (tenant === null) probe.tenantNotFound({ tenantId });
      else probe.tenantAccessDenied({ tenantId, permission: "view" });
      throw new NotFoundError(`Tenant ${tenantId} not found`);
    }
    probe.tenantRetrieved({ tenantId });
    return tenant;
  }

  /** The tenants the user belongs to. */
  async list(user: AuthenticatedUser, context = ObservationContext.empty): Promise<TenantRecord[]> {
    const ids = await this.deps.authorization.lookupResources("tenant", "view", { type: "user", id: user.userId });
    const tenants = await this.deps.repositories.tenants.listByIds(ids);
    this.probe(user, context).tenantsListed({ count: tenants.length });
    return tenants;
  }

  /**
   * Deletes the tenant and everything in it in one transaction: workspaces deepest first, then
   * groups, API keys and the tenant, each with an event that removes its relationships.
   */
  async delete(caller: Caller, tenantId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    this.assertMultiTenant();
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions to delete tenant", probe);
    try {
      const counts = await this.deps.unitOfWork.run(async (tx) => {
        const now = this.clock();
        const tenant = await TenantService.loadForUpdate(tx, tenantId);
        const workspaces = deepestFirst(await tx.repositories.workspaces.loadAllForUpdate(tenantId));
        for (const workspace of workspaces) workspace.markForDeletion(now);
        await tx.repositories.workspaces.delete(workspaces);
        tx.record(...workspaces.flatMap((w) => w.pullEvents()));
        const groups = await tx.repositories.tenants.deleteGroupsOfTenant(tenantId);
        tx.record(
          ...groups.map((g): IamEvent => ({ type: "GroupDeleted", tenantId, groupId: g.groupId, members: g.members, occurredAt: now })),
        );
        const keys = await tx.repositories.tenants.deleteApiKeysOfTenant(tenantId);
        tx.record(
          ...keys.map((k): IamEvent => ({ type: "ApiKeyDeleted", tenantId, apiKeyId: k.apiKeyId, userId: k.userId, occurredAt: now })),
        );
        tenant.markForDeletion(now);
        await tx.repositories.tenants.delete(tenant);
        tx.record(...tenant.pullEvents());
        return { workspaces: workspaces.length, groups: groups.length, apiKeys: keys.length };
      });
      probe.tenantDeleted({ tenantId, ...counts });
    } catch (error) {
      probe.tenantDeletionFailed({ tenantId, reason: reasonOf(error) });
      throw error;
    }
  }

  async listMembers(caller: Caller, tenantId: string, context = ObservationContext.empty): Promise<TenantMemberRecord[]> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const members = await this.deps.repositories.tenants.listMembers(tenantId);
    probe.membersListed({ tenantId, count: members.length });
    return members;
  }

  /**
   * Adds a member or replaces their role; the same role again is an idempotent success. Admins of
   * the tenant are admins of its root workspace: promotion grants it, demotion takes the user's
   * root-workspace role away.
   */
  async addMember(
    caller: Caller,
    tenantId: string,
    input: TenantMemberToAdd,
    context = ObservationContext.empty,
  ): Promise<TenantMemberRecord> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const userId =
      input.email != null && input.email.trim() !== ""
        ? await resolveUserByEmail(this.deps.repositories, input.email)
        : (input.userId ?? "").trim();
    const change = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      const tenant = await TenantService.loadForUpdate(tx, tenantId);
      const previous = tenant.roleOf(userId);
      const outcome = tenant.addMember(userId, input.role, caller.userId, now);
      await tx.repositories.tenants.save(tenant);
      tx.record(...tenant.pullEvents());
      await this.syncRootWorkspace(tx, tenantId, userId, previous, input.role, now);
      return outcome;
    });
    if (change === "replaced") probe.memberRoleChanged({ tenantId, userId, role: input.role });
    else if (change === "added") probe.memberAdded({ tenantId, userId, role: input.role });
    return { userId, role: input.role };
  }

  private async syncRootWorkspace(
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

  /**
   * Removes the user from the tenant with every role they hold inside it (workspaces, groups) and
   * revokes their API keys there. Refused while they are the last admin of anything in it.
   */
  async removeMember(caller: Caller, tenantId: string, userId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const removed = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      // Lock order everywhere: tenant and its member rows, then workspaces, then groups.
      const tenant = await TenantService.loadForUpdate(tx, tenantId);
      if (!tenant.removeMember(userId, caller.userId, now)) return null;

      const workspaces = await tx.repositories.workspaces.loadWhereUserIsMemberForUpdate(tenantId, userId);
      for (const workspace of workspaces) {
        if (workspace.isSoleAdmin(userId, "user")) {
          throw new LastAdminError(
            `Cannot remove the user from the tenant: they are the last admin of workspace '${workspace.name}'`,
          );
        }
        workspace.removeMember(userId, "user", now);
      }
      const groupRoles = await tx.repositories.tenants.groupRolesOfUserForUpdate(tenantId, userId);
      const lastAdminOf = groupRoles.find((g) => g.role === "admin" && g.adminCount <= 1);
      if (lastAdminOf) {
        throw new LastAdminError(`Cannot remove the user from the tenant: they are the last admin of group '${lastAdminOf.groupName}'`);
      }

      for (const workspace of workspaces) {
        await tx.repositories.workspaces.save(workspace);
        tx.record(...workspace.pullEvents());
      }
      await tx.repositories.tenants.removeUserFromGroups(tenantId, userId);
      tx.record(
        ...groupRoles.map((g): IamEvent => ({ type: "GroupMemberRemoved", tenantId, groupId: g.groupId, userId, role: g.role, occurredAt: now })),
      );
      const keys = await tx.repositories.tenants.revokeApiKeysOfUser(tenantId, userId, now);
      tx.record(...keys.map((k): IamEvent => ({ type: "ApiKeyRevoked", tenantId, apiKeyId: k.apiKeyId, userId, occurredAt: now })));
      await tx.repositories.tenants.save(tenant);
      tx.record(...tenant.pullEvents());
      return { workspaces: workspaces.length, groups: groupRoles.length, apiKeys: keys.length };
    });
    if (removed !== null) probe.memberRemoved({ tenantId, userId, ...removed });
  }

  // ---- DefaultTenantAccess (single-tenant mode) ----

  ensureDefaultTenant(): Promise<string> {
    this.defaultTenantId ??= this.createDefaultTenant().catch((error: unknown) => {
      this.defaultTenantId = null;
      throw error;
    });
    return this.defaultTenantId;
  }

  private async createDefaultTenant(): Promise<string> {
    // As stored: the configured spelling may differ from the normalised name (NFC).
    const name = nameOf("Tenant", this.deps.settings.defaultTenantName);
    const result = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      let created = false;
      let tenantId = (await tx.repositories.tenants.findByName(name))?.id ?? null;
      if (tenantId === null) {
        // Several instances may start together: the unique name decides, the losers re-read.
        const tenant = Tenant.create({ name, creatorId: null, now });
        created = await tx.repositories.tenants.insertIfAbsent(tenant);
        if (created) tx.record(...tenant.pullEvents());
        tenantId = created ? tenant.id : ((await tx.repositories.tenants.findByName(name))?.id ?? null);
      }
      if (tenantId === null) throw new Error(`The default tenant "${name}" could neither be created nor read`);
      let rootCreated = false;
      if ((await tx.repositories.workspaces.findRoot(tenantId)) === null) {
        const root = Workspace.createRoot({ tenantId, name: this.rootWorkspaceName(name), adminId: null, now });
        rootCreated = await tx.repositories.workspaces.insertIfAbsent(root);
        if (rootCreated) tx.record(...root.pullEvents());
        else if ((await tx.repositories.workspaces.findRoot(tenantId)) === null) {
          throw new Error(`The root workspace of the default tenant "${name}" could neither be created nor read`);
        }
      }
      return { tenantId, created, rootCreated };
    });
    this.deps.probe.defaultTenantEnsured({
      tenantId: result.tenantId,
      created: result.created,
      rootWorkspaceCreated: result.rootCreated,
    });
    return result.tenantId;
  }

  async join(userId: string, asAdmin: boolean): Promise<void> {
    const tenantId = await this.ensureDefaultTenant();
    if ((await this.deps.repositories.tenants.memberRole(tenantId, userId)) !== null) return;
    const role: TenantRole = asAdmin ? "admin" : "member";
    const change = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      const tenant = await TenantService.loadForUpdate(tx, tenantId);
      // A concurrent first request of the same user may have joined meanwhile: keep their role.
      if (tenant.roleOf(userId) !== null) return "unchanged" as const;
      const outcome = tenant.addMember(userId, role, null, now);
      await tx.repositories.tenants.save(tenant);
      tx.record(...tenant.pullEvents());
      await this.syncRootWorkspace(tx, tenantId, userId, null, role, now);
      return outcome;
    });
    if (change !== "unchanged") this.deps.probe.defaultTenantJoined({ tenantId, userId, role });
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
