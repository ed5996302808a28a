/**
 * What an operator does from the command line, without a token (`kartograph-iam admin ...`):
 * list tenants and users, create a tenant, make someone a member or an admin of a tenant. It acts
 * as the system, outside any caller's permissions, but through the same aggregates, unit of work
 * and outbox as the API: every domain rule holds (the last admin stays), SpiceDB learns of the
 * change, and the audit log names the system as the actor.
 */
import { NotFoundError } from "../domain/errors.js";
import type { TenantRole } from "../domain/roles.js";
import { Tenant } from "../domain/tenant.js";
import type { UserProfile } from "../domain/user.js";
import type { OperatorDirectory, TenantOverview } from "../ports/operator-directory.js";
import type { UnitOfWork } from "../ports/unit-of-work.js";
import { grantTenantRole, loadTenantAroundMember } from "./tenant-membership.js";
import { WorkspaceService } from "./workspace-service.js";

export const USERS_LISTED_AT_MOST = 1_000;

export class OperatorService {
  constructor(
    private readonly deps: {
      readonly directory: OperatorDirectory;
      readonly unitOfWork: UnitOfWork;
      /** The root workspace's name for a tenant's name (the setting, else the tenant name). */
      readonly rootWorkspaceName: (tenantName: string) => string;
      readonly clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  listTenants(): Promise<TenantOverview[]> {
    return this.deps.directory.listTenants();
  }

  listUsers(search: string | null): Promise<UserProfile[]> {
    return this.deps.directory.listUsers(search, USERS_LISTED_AT_MOST);
  }

  /** A tenant without members and a root workspace without admins: `setTenantRole` gives it its first admin. */
  async createTenant(name: string): Promise<{ id: string; name: string }> {
    return this.deps.unitOfWork.run(async (tx) => {
      const now = this.now();
      const tenant = Tenant.create({ name, creatorId: null, now });
      await tx.repositories.tenants.save(tenant);
      tx.record(...tenant.pullEvents());
      await WorkspaceService.createRoot(tx, { tenantId: tenant.id, name: this.deps.rootWorkspaceName(tenant.name), adminId: null, now });
      return { id: tenant.id, name: tenant.name };
    });
  }

  /** Gives an existing user (by id or username) `role` in the tenant; returns the user and what changed. */
  async setTenantRole(tenantId: string, idOrUsername: string, role: TenantRole) {
    const user = await this.deps.directory.findUser(idOrUsername);
    if (user === null) throw new NotFoundError(`No user with the id or username "${idOrUsername}"; users appear at their first sign-in`);
    const change = await this.deps.unitOfWork.run(async (tx) => {
      const tenant = await loadTenantAroundMember(tx, tenantId, user.id);
      return grantTenantRole(tx, tenant, user.id, role, null, this.now());
    });
    return { user, change };
  }
}
