import type { DatabaseHandle, Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";
import { DrizzleApiKeyRepository } from "./drizzle-api-key-repository.js";
import { DrizzleDirectoryGroups } from "./drizzle-directory-groups.js";
import { DrizzleDirectoryUsers } from "./drizzle-directory-users.js";
import { DrizzleScimTokens } from "./drizzle-scim-tokens.js";
import { DrizzleGroupRepository } from "./drizzle-group-repository.js";
import { DrizzleTenantInvitationRepository } from "./drizzle-tenant-invitation-repository.js";
import { DrizzleTenantMemberDirectory } from "./drizzle-tenant-member-directory.js";
import { DrizzleTenantRepository } from "./drizzle-tenant-repository.js";
import { DrizzleUserRepository } from "./drizzle-user-repository.js";
import { DrizzleWorkspaceRepository } from "./drizzle-workspace-repository.js";
import type { KeptGroupLists } from "./kept-group-lists.js";

export interface RepositoryOptions {
  /** Whole-tenant group lists to reuse (for the reads outside transactions; see kept-group-lists.ts). */
  readonly keptGroupLists?: KeptGroupLists;
  /** Told of audit events a repository writes itself, with how many (a directory's profile change). */
  readonly onAudited?: (count: number) => void;
}

/** Repositories over one connection or transaction of a database of the given kind. */
export function createRepositories(db: Queryable, kind: DatabaseHandle["kind"] = "postgres", options: RepositoryOptions = {}): Repositories {
  return {
    tenants: new DrizzleTenantRepository(db),
    workspaces: new DrizzleWorkspaceRepository(db, { listsAsJson: kind === "pglite" }),
    groups: new DrizzleGroupRepository(db, options.keptGroupLists ? { keptLists: options.keptGroupLists } : {}),
    users: new DrizzleUserRepository(db),
    apiKeys: new DrizzleApiKeyRepository(db),
    tenantMemberDirectory: new DrizzleTenantMemberDirectory(db),
    invitations: new DrizzleTenantInvitationRepository(db),
    directoryUsers: new DrizzleDirectoryUsers(db, options.onAudited),
    directoryGroups: new DrizzleDirectoryGroups(db),
    scimTokens: new DrizzleScimTokens(db),
  };
}
