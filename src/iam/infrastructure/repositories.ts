import type { Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";
import { DrizzleApiKeyRepository } from "./drizzle-api-key-repository.js";
import { DrizzleUserRepository } from "./drizzle-user-repository.js";

/** Repositories over one connection or transaction. */
export function createRepositories(db: Queryable): Repositories {
  return {
    tenants: {},
    workspaces: {},
    groups: {},
    users: new DrizzleUserRepository(db),
    apiKeys: new DrizzleApiKeyRepository(db),
  };
}
