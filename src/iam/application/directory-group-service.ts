/**
 * Groups of a tenant's directory (SCIM 2.0): IAM groups that the directory created and whose
 * members it sets, all as plain members (no group admin: the directory owns them). Like any group
 * they can be granted workspace roles, so directory membership drives workspace access as soon as
 * a change returns. Members must be users of the tenant; deleting a group removes its workspace
 * grants with it, and is refused while it is the last admin of a workspace.
 */
import { createHash } from "node:crypto";
import { newUlid } from "../../shared-kernel/ids.js";
import { InvalidInputError, NotFoundError, PreconditionFailedError } from "../domain/errors.js";
import { Group } from "../domain/group.js";
import type { DirectoryGroup, DirectoryGroupPage, GroupFilter } from "../ports/directory-groups.js";
import type { Repositories } from "../ports/repositories.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { loadTenantForNewMember } from "./tenant-membership.js";

/** What the directory sends for a group (a SCIM Group, read by the presentation layer). */
export interface DirectoryGroupInput {
  readonly name: string;
  readonly externalId: string | null;
  readonly memberIds: readonly string[];
}

export interface DirectoryGroupServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  /** For reads outside a transaction. */
  readonly repositories: Repositories;
  readonly clock?: () => Date;
}

/** How many members a directory's group may have (one SCIM request sets them all at most). */
export const MAX_DIRECTORY_GROUP_MEMBERS = 50_000;

const EXTERNAL_ID_MAX_LENGTH = 255;

function checkExternalId(externalId: string | null): void {
  if (externalId !== null && externalId.length > EXTERNAL_ID_MAX_LENGTH) {
    throw new InvalidInputError(`externalId must be at most ${EXTERNAL_ID_MAX_LENGTH} characters`);
  }
}

export function groupNotFound(id: string): NotFoundError {
  return new NotFoundError(`Group ${id} not found`);
}

/** The group's version, for ETags and If-Match: a digest of what the directory sees of it. */
export function groupVersionOf(group: DirectoryGroup): string {
  const seen = [group.id, group.name, group.externalId, group.members.map((member) => member.id)];
  return createHash("sha256").update(JSON.stringify(seen)).digest("base64url").slice(0, 22);
}

export class DirectoryGroupService {
  private readonly clock: () => Date;

  constructor(private readonly deps: DirectoryGroupServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async find(tenantId: string, id: string, withMembers = true): Promise<DirectoryGroup> {
    const group = await this.deps.repositories.directoryGroups.find(tenantId, id, withMembers);
    if (group === null) throw groupNotFound(id);
    return group;
  }

  list(tenantId: string, filter: GroupFilter | null, startIndex: number, count: number, withMembers: boolean): Promise<DirectoryGroupPage> {
    return this.deps.repositories.directoryGroups.list(tenantId, filter, startIndex, count, withMembers);
  }

  /** A new directory group; a name another group of the tenant has is a conflict. */
  async create(tenantId: string, input: DirectoryGroupInput): Promise<DirectoryGroup> {
    checkExternalId(input.externalId);
    return this.deps.unitOfWork.run(async (tx) => {
      // The tenant's lock keeps members from leaving the tenant while they join the group.
      await loadTenantForNewMember(tx, tenantId);
      const memberIds = await this.tenantMembers(tx, tenantId, input.memberIds);
      const now = this.clock();
      const group = Group.createForDirectory({ id: newUlid(), tenantId, name: input.name, now });
      group.setDirectoryMembers(memberIds, now);
      await tx.repositories.groups.add(group);
      await tx.repositories.directoryGroups.setExternalId(group.id, input.externalId);
      tx.record(...group.pullEvents());
      return this.reread(tx, tenantId, group.id);
    });
  }

  /**
   * Replaces the group with what `change` makes of it (PUT sends it whole, PATCH edits the
   * current one), under the tenant's and the group's locks. `expectedVersion` (If-Match) must
   * still be its version.
   */
  async change(
    tenantId: string,
    id: string,
    change: (current: DirectoryGroup) => DirectoryGroupInput,
    expectedVersion: string | null = null,
  ): Promise<DirectoryGroup> {
    return this.deps.unitOfWork.run(async (tx) => {
      await loadTenantForNewMember(tx, tenantId);
      const group = await tx.repositories.groups.lockById(id);
      const current = group?.directoryManaged === true ? await tx.repositories.directoryGroups.find(tenantId, id, true) : null;
      if (group === null || current === null) throw groupNotFound(id);
      if (expectedVersion !== null && expectedVersion !== groupVersionOf(current)) {
        throw new PreconditionFailedError(`Group ${id} changed since version ${expectedVersion}; read it again`);
      }
      const input = change(current);
      checkExternalId(input.externalId);
      const now = this.clock();
      group.rename(input.name, now);
      group.setDirectoryMembers(await this.tenantMembers(tx, tenantId, input.memberIds), now);
      await tx.repositories.groups.save(group);
      await tx.repositories.directoryGroups.setExternalId(id, input.externalId);
      tx.record(...group.pullEvents());
      return this.reread(tx, tenantId, id);
    });
  }

  /** Deletes the group with its workspace grants (the group routes' rules). */
  async delete(tenantId: string, id: string): Promise<void> {
    await this.deps.unitOfWork.run(async (tx) => {
      const groups = tx.repositories.groups;
      // The group routes' lock order: the workspaces it holds grants on, then the group.
      await groups.lockWorkspaceGrants(id);
      const group = await groups.lockForDeletion(id);
      if (group === null || group.tenantId !== tenantId || !group.directoryManaged) throw groupNotFound(id);
      const grants = await groups.lockWorkspaceGrants(id);
      group.markDeleted(grants, this.clock());
      await groups.remove(group);
      tx.record(...group.pullEvents());
    });
  }

  /** The ids, once each, when every one is a member of the tenant; else a 400 that names those who are not. */
  private async tenantMembers(tx: TransactionContext, tenantId: string, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length > MAX_DIRECTORY_GROUP_MEMBERS) {
      throw new InvalidInputError(`A group has at most ${MAX_DIRECTORY_GROUP_MEMBERS} members`);
    }
    const found = new Set((await tx.repositories.users.findTenantMembersByIds(tenantId, unique)).map((user) => user.id));
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const named = missing.slice(0, 5).join(", ");
      throw new InvalidInputError(
        `members must be active users of this tenant; not: ${named}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""}`,
      );
    }
    return unique;
  }

  private async reread(tx: TransactionContext, tenantId: string, id: string): Promise<DirectoryGroup> {
    const group = await tx.repositories.directoryGroups.find(tenantId, id, true);
    if (group === null) throw new Error(`group ${id} vanished inside its own transaction`);
    return group;
  }
}
