import type { Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";
import { DrizzleGroupRepository } from "./drizzle-group-repository.js";
import { DrizzleTenantMemberDirectory } from "./drizzle-tenant-member-directory.js";

/** Repositories over one connection or transaction. */
export function createRepositories(db: Queryable): Repositories {
  return {
    tenants: {},
    workspaces: {},
    groups: new DrizzleGroupRepository(db),
    users: {},
    apiKeys: {},
    tenantMemberDirectory: new DrizzleTenantMemberDirectory(db),
  };
}
