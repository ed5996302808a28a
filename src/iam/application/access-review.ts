/**
 * Access reviews: who can view a workspace or a group, what each of them can do there, and every
 * path that grants it, in the product's terms (a direct role, a role through a group, tenant
 * admin) rather than raw tuples. The paths come from the tables; the permissions they give follow
 * the permission schema (platform/spicedb/schema.zed), which a test checks against SpiceDB.
 *
 * Asked by those who manage the object, or by the tenant's admins; anyone else is answered as for
 * any other action (404 when they cannot view it, 403 when they can).
 */
import type { AuthorizationPort, ObjectRef } from "../../shared-kernel/authorization/authorization-port.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import type { AccessPath, AccessPaths, UserAccessPath } from "../ports/access-paths.js";
import type { TenantRepository } from "../ports/tenant-repository.js";
import { accessTo } from "./access-check.js";
import type { Caller } from "./caller.js";
import { askedSubject } from "./permission-questions.js";

export const ACCESS_REVIEW_FORBIDDEN = "Only those who manage it, or the tenant's admins, can review who has access";

const WORKSPACE_PERMISSIONS = ["view", "edit", "manage", "create_child"] as const;
const GROUP_PERMISSIONS = ["view", "manage", "member"] as const;

/** What a path gives on a workspace (schema.zed: definition workspace). */
function workspacePermissionsOf(path: AccessPath): readonly string[] {
  if (path.kind === "tenant_admin") return ["view"];
  if (path.role === "admin") return WORKSPACE_PERMISSIONS;
  if (path.role === "editor") return ["view", "edit", "create_child"];
  return ["view"];
}

/** What a path gives on a group (schema.zed: definition group; a group grants nothing through itself). */
function groupPermissionsOf(path: AccessPath): readonly string[] {
  if (path.kind === "tenant_admin") return ["view"];
  return path.kind === "direct" && path.role === "admin" ? GROUP_PERMISSIONS : ["view", "member"];
}

export interface ExplainedResource {
  readonly type: "tenant" | "workspace" | "group";
  readonly id: string;
}

export type ExplainedPath = AccessPath | { readonly kind: "tenant_member" };

export interface Explanation {
  readonly allowed: boolean;
  readonly paths: readonly ExplainedPath[];
  /** When denied: what would grant it, in words. */
  readonly wouldGrant: string | null;
}

const WOULD_GRANT: Record<ExplainedResource["type"], Record<string, string>> = {
  tenant: {
    view: "membership of the tenant",
    create_api_key: "membership of the tenant",
    manage: "tenant admin",
    administrate: "tenant admin",
  },
  workspace: {
    view: "a role (admin, editor or member) on this workspace, directly or through a group, or tenant admin",
    edit: "editor or admin on this workspace, directly or through a group",
    manage: "admin on this workspace, directly or through a group",
    create_child: "editor or admin on this workspace, directly or through a group (on a root workspace: membership of the tenant)",
  },
  group: {
    view: "a role (admin or member) in this group, or tenant admin",
    manage: "admin of this group",
    member: "a role (admin or member) in this group",
  },
};

function pathsOf(paths: readonly UserAccessPath[], userId: string): AccessPath[] {
  return paths.filter((path) => path.userId === userId).map((path) => path.path);
}

export interface UserAccess {
  readonly userId: string;
  readonly username: string | null;
  /** In the schema's order (view first). */
  readonly permissions: readonly string[];
  readonly via: readonly AccessPath[];
}

/** One entry per user, their paths in the given order, their permissions the union of what each gives. */
function byUser(paths: readonly UserAccessPath[], permissionsOf: (path: AccessPath) => readonly string[], order: readonly string[], extra: readonly string[] = []): UserAccess[] {
  const users = new Map<string, { username: string | null; permissions: Set<string>; via: AccessPath[] }>();
  for (const { userId, username, path } of paths) {
    const entry = users.get(userId) ?? { username, permissions: new Set(extra), via: [] };
    for (const permission of permissionsOf(path)) entry.permissions.add(permission);
    entry.via.push(path);
    users.set(userId, entry);
  }
  return [...users].map(([userId, entry]) => ({
    userId,
    username: entry.username,
    permissions: order.filter((permission) => entry.permissions.has(permission)),
    via: entry.via,
  }));
}

export class AccessReview {
  constructor(
    private readonly deps: {
      readonly authorization: AuthorizationPort;
      readonly paths: AccessPaths;
      readonly tenants: Pick<TenantRepository, "memberRole">;
    },
  ) {}

  /**
   * Why the subject has, or has not, the permission: the paths that grant it (in the review's
   * vocabulary, plus `tenant_member` for what membership alone gives), or what would grant it.
   */
  async explain(caller: Caller, resource: ExplainedResource, permission: string, subjectId?: string): Promise<Explanation> {
    const userId = await askedSubject(this.deps, caller, subjectId);
    const tenantRole = await this.deps.tenants.memberRole(caller.tenantId, userId);
    // Only a tenant admin may ask about someone else; a member asking about themselves learns
    // nothing of an object they cannot reach at all (404, as for one that does not exist).
    const hiddenUnlessReached = userId === caller.userId && tenantRole !== "admin";
    let paths: ExplainedPath[];
    if (resource.type === "tenant") {
      if (resource.id !== caller.tenantId) throw new NotFoundError(`Tenant ${resource.id} not found`);
      const adminOnly = permission === "manage" || permission === "administrate";
      paths = adminOnly ? (tenantRole === "admin" ? [{ kind: "tenant_admin" }] : []) : [{ kind: "tenant_member" }];
    } else if (resource.type === "workspace") {
      const found = await this.deps.paths.toWorkspace(caller.tenantId, resource.id, userId);
      const own = found === null ? [] : pathsOf(found.paths, userId);
      // Every member of the tenant may create children of the root (creator_tenant->view).
      const rootMember = found?.isRoot === true;
      const reached = own.length > 0 || rootMember;
      if (found === null || (hiddenUnlessReached && !reached)) throw new NotFoundError(`Workspace ${resource.id} not found`);
      paths = own.filter((path) => workspacePermissionsOf(path).includes(permission));
      if (permission === "create_child" && rootMember) paths.push({ kind: "tenant_member" });
    } else {
      const found = await this.deps.paths.toGroup(caller.tenantId, resource.id, userId);
      const own = found === null ? [] : pathsOf(found, userId);
      const reached = own.length > 0;
      if (found === null || (hiddenUnlessReached && !reached)) throw new NotFoundError(`Group ${resource.id} not found`);
      paths = own.filter((path) => groupPermissionsOf(path).includes(permission));
    }
    return paths.length > 0 ? { allowed: true, paths, wouldGrant: null } : { allowed: false, paths, wouldGrant: WOULD_GRANT[resource.type][permission] ?? null };
  }

  async workspace(caller: Caller, workspaceId: string): Promise<UserAccess[]> {
    const found = await this.deps.paths.toWorkspace(caller.tenantId, workspaceId);
    if (found === null) throw new NotFoundError(`Workspace ${workspaceId} not found`);
    await this.mayReview(caller, { type: "workspace", id: workspaceId }, `Workspace ${workspaceId} not found`);
    // A root workspace lets every member of the tenant create children (creator_tenant->view).
    return byUser(found.paths, workspacePermissionsOf, WORKSPACE_PERMISSIONS, found.isRoot ? ["create_child"] : []);
  }

  async group(caller: Caller, groupId: string): Promise<UserAccess[]> {
    const paths = await this.deps.paths.toGroup(caller.tenantId, groupId);
    if (paths === null) throw new NotFoundError(`Group ${groupId} not found`);
    await this.mayReview(caller, { type: "group", id: groupId }, `Group ${groupId} not found`);
    return byUser(paths, groupPermissionsOf, GROUP_PERMISSIONS);
  }

  private async mayReview(caller: Caller, resource: ObjectRef, notFound: string): Promise<void> {
    const outcome = await accessTo(this.deps.authorization, resource, caller, "manage");
    if (outcome === "allowed") return;
    if (outcome === "hidden") throw new NotFoundError(notFound);
    const admin = await accessTo(this.deps.authorization, { type: "tenant", id: caller.tenantId }, caller, "administrate");
    if (admin !== "allowed") throw new ForbiddenError(ACCESS_REVIEW_FORBIDDEN);
  }
}
