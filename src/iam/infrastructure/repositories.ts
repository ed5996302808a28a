import type { Queryable } from "../../platform/database/database.js";
import type { Repositories } from "../ports/repositories.js";

/** Repositories over one connection or transaction. */
export function createRepositories(_db: Queryable): Repositories {
  return {
    tenants: {},
    workspaces: {},
    groups: {},
    users: {},
    apiKeys: {},
  };
}
