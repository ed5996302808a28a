/**
 * Wires the IAM bounded context: repositories, unit of work, services and routes. The composition
 * root (src/app.ts) hands in the platform pieces and registers what this returns.
 */
import type { AuthorizationPort } from "../shared-kernel/authorization/authorization-port.js";
import type { AppConfig } from "../platform/config/config.js";
import type { DatabaseHandle } from "../platform/database/database.js";
import type { RouteRegistrar } from "../platform/http/http-server.js";
import type { Logger } from "../platform/logging/logger.js";
import type { UnitOfWork } from "./ports/unit-of-work.js";

export interface IamModuleDependencies {
  readonly config: AppConfig;
  readonly database: DatabaseHandle;
  /** Decision-cached, always at least as fresh as the last applied write. */
  readonly authorization: AuthorizationPort;
  readonly unitOfWork: UnitOfWork;
  readonly logger: Logger;
}

export interface IamModule {
  readonly routes: readonly RouteRegistrar[];
  /** Start-up work before serving (e.g. the single-tenant bootstrap). */
  start(): Promise<void>;
}

export async function createIamModule(_deps: IamModuleDependencies): Promise<IamModule> {
  return {
    routes: [],
    async start() {},
  };
}
