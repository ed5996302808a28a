import type { DatabaseHandle, Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";
import { DrizzleApiKeyRepository } from "./drizzle-api-key-repository.js";
import { DrizzleGroupRepository } from "./drizzle-group-repository.js";
import { DrizzleTenantInvitationRepository } from "./drizzle-tenant-invitation-repository.js";
import { DrizzleTenantMemberDirectory } from "./drizzle-tenant-member-directory.js";
import { DrizzleTenantRepository } from "./drizzle-tenant-repository.js";
import { DrizzleUserRepository } from "./drizzle-user-repository.js";
import { DrizzleWorkspaceRepository } from "./drizzle-workspace-repository.js";

/** Repositories over one connection or transaction of a database of the given kind. */
export function createRepositories(db: Queryable, kind: DatabaseHandle["kind"] = "postgres"): Repositories {
  return {
    tenants: new DrizzleTenantRepository(db),
    workspaces: new DrizzleWorkspaceRepository(db, { listsAsJson: kind === "pglite" }),
    groups: new DrizzleGroupRepository(db),
    users: new DrizzleUserRepository(db),
    apiKeys: new DrizzleApiKeyRepository(db),
    tenantMemberDirectory: new DrizzleTenantMemberDirectory(db),
    invitations: new DrizzleTenantInvitationRepository(db),
  };
}
