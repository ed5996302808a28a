import type { Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";
import { DrizzleApiKeyRepository } from "./drizzle-api-key-repository.js";
import { DrizzleTenantRepository } from "./drizzle-tenant-repository.js";
import { DrizzleUserRepository } from "./drizzle-user-repository.js";
import { DrizzleWorkspaceRepository } from "./drizzle-workspace-repository.js";

/** Repositories over one connection or transaction. */
export function createRepositories(db: Queryable): Repositories {
  return {
    tenants: new DrizzleTenantRepository(db),
    workspaces: new DrizzleWorkspaceRepository(db),
    groups: {},
    users: new DrizzleUserRepository(db),
    apiKeys: new DrizzleApiKeyRepository(db),
  };
}
