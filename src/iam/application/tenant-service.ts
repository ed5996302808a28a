/**
 * Tenants: creation with a root workspace, membership (kept in step with the root workspace) and
 * invitations by email, and deletion with everything inside. Also the default tenant of
 * single-tenant mode, and the binding of invitations at sign-in.
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import { ConflictError, ForbiddenError, NotFoundError } from "../domain/errors.js";
import { invitationMemberId, invitedEmailOf, normaliseEmail } from "../domain/invitation.js";
import { nameOf } from "../domain/names.js";
import type { TenantRole } from "../domain/roles.js";
import { Tenant } from "../domain/tenant.js";
import { Workspace, deepestFirst } from "../domain/workspace.js";
import type { Repositories } from "../ports/repositories.js";
import type { TenantRecord } from "../ports/tenant-repository.js";
import type { UnitOfWork } from "../ports/unit-of-work.js";
import { accessTo } from "./access-check.js";
import { KEYS_CANNOT_MANAGE_TENANTS, reachesTenant, requirePerson } from "./api-key-confinement.js";
import type { AuthenticatedUser, Caller } from "./caller.js";
import type { DefaultTenantAccess } from "./default-tenant-access.js";
import type { InvitationBinding } from "./invitation-binding.js";
import type { ProvisionedUserCache } from "./provisioned-user-cache.js";
import { grantTenantRole, loadTenantAroundMember, loadTenantForUpdate, removeDepartingMember } from "./tenant-membership.js";
import { reasonOf } from "./probe-fields.js";
import type { TenantServiceProbe } from "./tenant-service-probe.js";
import { WorkspaceService } from "./workspace-service.js";

export const WITHDRAWN_BY_DIRECTORY = "Your account was deactivated in this tenant by its directory";
export const TENANT_MANAGEMENT_DISABLED = "Tenant management is disabled in single-tenant mode";

export interface TenantServiceSettings {
  readonly singleTenantMode: boolean;
  readonly defaultTenantName: string;
  /** Name of every new root workspace; null means the tenant's own name. */
  readonly defaultWorkspaceName: string | null;
  /**
   * The first user to join the default tenant while it has no members becomes its admin, so a
   * development setup has an admin without configuration. Only for the development token issuer
   * (where anyone can mint a token anyway); the composition root decides. Default false.
   */
  readonly firstJoinerBecomesAdmin?: boolean;
}

export interface TenantServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  readonly repositories: Repositories;
  readonly authorization: AuthorizationPort;
  readonly probe: TenantServiceProbe;
  readonly settings: TenantServiceSettings;
  readonly clock?: () => Date;
  /** This process's provisioning cache: a new invitation makes its email's users provision again. */
  readonly provisionedUsers?: ProvisionedUserCache;
}

export interface TenantMemberToAdd {
  readonly userId?: string | null;
  readonly email?: string | null;
  readonly role: TenantRole;
}

/**
 * A member of the tenant, or a pending invitation: its `userId` is then `invitation:<email>`
 * (see domain/invitation.ts), which the member routes accept to address it.
 */
export type TenantMemberEntry =
  | { readonly status: "active"; readonly userId: string; readonly role: TenantRole }
  | { readonly status: "pending"; readonly userId: string; readonly email: string; readonly role: TenantRole };

export class TenantService implements DefaultTenantAccess, InvitationBinding {
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
    const outcome = await accessTo(this.deps.authorization, { type: "tenant", id: tenantId }, user, permission);
    if (outcome === "allowed") return;
    probe.tenantAccessDenied({ tenantId, permission });
    if (outcome === "hidden") throw new NotFoundError(`Tenant ${tenantId} not found`);
    throw new ForbiddenError(forbidden);
  }

  /**
   * A new tenant (multi-tenant mode only): the creator administers it and its root workspace.
   * Names are unique per creator, so the answer never tells whose names exist. People only.
   */
  async create(user: AuthenticatedUser, name: string, context = ObservationContext.empty): Promise<TenantRecord> {
    const probe = this.probe(user, context);
    this.assertMultiTenant();
    requirePerson(user, KEYS_CANNOT_MANAGE_TENANTS);
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
      accessTo(this.deps.authorization, { type: "tenant", id: tenantId }, user, "view"),
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

  /** The tenants the user belongs to (an API key: its own tenant, while its creator belongs to it). */
  async list(user: AuthenticatedUser, context = ObservationContext.empty): Promise<TenantRecord[]> {
    const ids = await this.deps.authorization.lookupResources("tenant", "view", { type: "user", id: user.userId });
    const tenants = await this.deps.repositories.tenants.listByIds(ids.filter((id) => reachesTenant(user, id)));
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
    requirePerson(caller, KEYS_CANNOT_MANAGE_TENANTS);
    try {
      const counts = await this.deps.unitOfWork.run(async (tx) => {
        const now = this.clock();
        const tenant = await loadTenantForUpdate(tx, tenantId);
        const workspaces = deepestFirst(await tx.repositories.workspaces.loadAllForUpdate(tenantId));
        for (const workspace of workspaces) workspace.markForDeletion(now);
        await tx.repositories.workspaces.delete(workspaces);
        tx.record(...workspaces.flatMap((w) => w.pullEvents()));
        const groups = await tx.repositories.groups.lockAllOfTenant(tenantId);
        for (const group of groups) group.markDeletedWithTenant(now);
        await tx.repositories.groups.removeAll(groups);
        tx.record(...groups.flatMap((g) => g.pullEvents()));
        const keys = await tx.repositories.apiKeys.lockAllOfTenant(tenantId);
        for (const key of keys) key.markDeletedWithTenant(now);
        await tx.repositories.apiKeys.removeAll(keys);
        tx.record(...keys.flatMap((k) => k.pullEvents()));
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

  /** Members first (by user id), then pending invitations (by email). */
  async listMembers(caller: Caller, tenantId: string, context = ObservationContext.empty): Promise<TenantMemberEntry[]> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const [members, invitations] = await Promise.all([
      this.deps.repositories.tenants.listMembers(tenantId),
      this.deps.repositories.invitations.listForTenant(tenantId),
    ]);
    const entries: TenantMemberEntry[] = [
      ...members.map((m) => ({ status: "active" as const, userId: m.userId, role: m.role })),
      ...invitations.map((i) => ({ status: "pending" as const, userId: invitationMemberId(i.email), email: i.email, role: i.role })),
    ];
    probe.membersListed({ tenantId, count: entries.length });
    return entries;
  }

  /**
   * Adds a member or replaces their role; the same role again is an idempotent success. By email,
   * only the tenant's own members are looked for: a member with that email gets the role, anyone
   * else gets an invitation, answered alike whether or not the email belongs to a user anywhere.
   */
  async addMember(
    caller: Caller,
    tenantId: string,
    input: TenantMemberToAdd,
    context = ObservationContext.empty,
  ): Promise<TenantMemberEntry> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const email = input.email != null && input.email.trim() !== "" ? normaliseEmail(input.email) : null;
    const { entry, change } = await this.deps.unitOfWork.run(async (tx) => {
      let userId = (input.userId ?? "").trim();
      // By user id, only that member's row and the admins' are needed; by email, every member's
      // row stays locked, so that who has the email cannot change before commit.
      const tenant = email === null ? await loadTenantAroundMember(tx, tenantId, userId) : await loadTenantForUpdate(tx, tenantId);
      if (email !== null) {
        // The member rows are locked: the answer cannot change before commit.
        const ids = await tx.repositories.tenantMemberDirectory.findIdsByEmail(tenantId, email);
        if (ids.length > 1) {
          throw new ConflictError(`Several members of this tenant have the email "${email}"; add the user by user id instead`);
        }
        if (ids[0] === undefined) {
          const previousRole = await tx.repositories.invitations.put(tenantId, { email, role: input.role, invitedBy: caller.userId });
          if (previousRole !== input.role) {
            tx.record({ type: "TenantInvitationCreated", tenantId, email, role: input.role, previousRole, invitedBy: caller.userId, occurredAt: this.clock() });
          }
          const pending: TenantMemberEntry = { status: "pending", userId: invitationMemberId(email), email, role: input.role };
          return { entry: pending, change: null };
        }
        userId = ids[0];
      }
      const granted = await grantTenantRole(tx, tenant, userId, input.role, caller.userId, this.clock());
      const active: TenantMemberEntry = { status: "active", userId, role: input.role };
      return { entry: active, change: granted };
    });
    if (entry.status === "pending") {
      this.deps.provisionedUsers?.invited(entry.email);
      probe.invitationRecorded({ tenantId, email: entry.email, role: input.role });
    } else if (change === "replaced") {
      probe.memberRoleChanged({ tenantId, userId: entry.userId, role: input.role });
    } else if (change === "added") {
      probe.memberAdded({ tenantId, userId: entry.userId, role: input.role });
    }
    return entry;
  }

  /**
   * Removes the user from the tenant with every role they hold inside it (workspaces, groups) and
   * revokes their API keys there. Refused while they are the last admin of anything in it. An
   * `invitation:<email>` id that names no member revokes that invitation. Removing someone who
   * is neither changes nothing.
   */
  async removeMember(caller: Caller, tenantId: string, userId: string, context = ObservationContext.empty): Promise<void> {
    const probe = this.probe(caller, context);
    await this.authorize(caller, tenantId, "administrate", "Insufficient permissions", probe);
    const invitedEmail = invitedEmailOf(userId);
    const removed = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      // Lock order everywhere: tenant and its member rows (here: the departing member's and the
      // admins'), then workspaces, then groups.
      const tenant = await loadTenantAroundMember(tx, tenantId, userId);
      if (!tenant.removeMember(userId, caller.userId, now)) {
        const revoked = invitedEmail === null ? null : await tx.repositories.invitations.take(tenantId, invitedEmail);
        if (revoked === null) return null;
        tx.record({ type: "TenantInvitationRevoked", tenantId, email: revoked.email, occurredAt: now });
        return "invitation_revoked" as const;
      }
      return removeDepartingMember(tx, tenant, userId, now);
    });
    if (removed === "invitation_revoked") probe.invitationRevoked({ tenantId, email: invitedEmail ?? "" });
    else if (removed !== null) probe.memberRemoved({ tenantId, userId, ...removed });
  }

  // ---- DefaultTenantAccess (single-tenant mode) ----

  ensureDefaultTenant(): Promise<string> {
    this.defaultTenantId ??= this.createDefaultTenant().catch((error: unknown) => {
      this.defaultTenantId = null;
      throw error;
    });
    return this.defaultTenantId;
  }

  /**
   * The default tenant is found by its marker, never by name (tenant names are unique per creator
   * only). A database from before the marker has it as the oldest creator-less tenant of the
   * configured name, which is adopted. Instances starting together take turns (advisory lock).
   */
  private async createDefaultTenant(): Promise<string> {
    // As stored: the configured spelling may differ from the normalised name (NFC).
    const name = nameOf("Tenant", this.deps.settings.defaultTenantName);
    const result = await this.deps.unitOfWork.run(async (tx) => {
      const now = this.clock();
      const tenants = tx.repositories.tenants;
      await tenants.lockDefaultTenantSetup();
      let created = false;
      let tenantId = ((await tenants.findDefault()) ?? (await tenants.adoptDefault(name)))?.id ?? null;
      if (tenantId === null) {
        const tenant = Tenant.create({ name, creatorId: null, now });
        await tenants.insertDefault(tenant);
        tx.record(...tenant.pullEvents());
        created = true;
        tenantId = tenant.id;
      }
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

  async join(userId: string, asAdmin: boolean): Promise<TenantRole | null> {
    const tenantId = await this.ensureDefaultTenant();
    if ((await this.deps.repositories.tenants.memberRole(tenantId, userId)) !== null) return null;
    const firstJoinerRule = this.deps.settings.firstJoinerBecomesAdmin === true;
    const role = await this.deps.unitOfWork.run(async (tx) => {
      // Every member is read only where the first joiner becomes admin (development): a sign-in
      // into a tenant of 100,000 members otherwise reads and locks the joiner's row and the admins'.
      const tenant = firstJoinerRule ? await loadTenantForUpdate(tx, tenantId) : await loadTenantAroundMember(tx, tenantId, userId);
      // A concurrent first request of the same user may have joined meanwhile: keep their role.
      if (tenant.roleOf(userId) !== null) return null;
      // Whom the tenant's directory deactivated or deleted may not walk back in.
      if (await tx.repositories.directoryUsers.isWithdrawn(tenantId, userId)) throw new ForbiddenError(WITHDRAWN_BY_DIRECTORY);
      // Decided under the tenant row lock, with the members read after it: of concurrent first
      // sign-ins into an empty tenant, exactly one sees it empty.
      const first = firstJoinerRule && tenant.memberList().length === 0;
      const granted: TenantRole = asAdmin || first ? "admin" : "member";
      await grantTenantRole(tx, tenant, userId, granted, null, this.clock());
      return granted;
    });
    if (role !== null) this.deps.probe.defaultTenantJoined({ tenantId, userId, role });
    return role;
  }

  // ---- InvitationBinding (sign-in) ----

  /**
   * One transaction for every tenant that invited the email, locked in id order. Each invitation
   * is deleted as it binds, under its tenant's lock, so concurrent first requests bind it once; the
   * tenant counts as joined for all of them. Someone who is already a member keeps their role
   * (binding never demotes, so it never meets the last-admin rule); the invitation is used up
   * either way. Binding records the same TenantMemberAdded event as any other add, by the admin
   * who invited.
   */
  async bindInvitations(userId: string, email: string): Promise<readonly string[]> {
    const { joined, bound } = await this.deps.unitOfWork.run(async (tx) => {
      const result = { joined: [] as string[], bound: [] as { tenantId: string; role: TenantRole }[] };
      for (const tenantId of await tx.repositories.invitations.tenantsInviting(email)) {
        const tenant = await tx.repositories.tenants.loadForUpdate(tenantId);
        if (tenant === null) continue;
        const invitation = await tx.repositories.invitations.take(tenantId, email);
        if (invitation !== null && tenant.roleOf(userId) === null) {
          await grantTenantRole(tx, tenant, userId, invitation.role, invitation.invitedBy, this.clock());
          result.bound.push({ tenantId, role: invitation.role });
        }
        if (tenant.roleOf(userId) !== null) result.joined.push(tenantId);
      }
      return result;
    });
    for (const { tenantId, role } of bound) this.deps.probe.invitationBound({ tenantId, userId, role });
    return joined;
  }
}
