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
import { ObservationContext } from "../shared-kernel/observation-context.js";
import { GroupService } from "./application/group-service.js";
import { PinoGroupServiceProbe } from "./application/group-service-probe.js";
import { createRepositories } from "./infrastructure/repositories.js";
import { registerGroupRoutes } from "./presentation/group-routes.js";

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

export async function createIamModule(deps: IamModuleDependencies): Promise<IamModule> {
  // Reads go to the primary: a replica could miss a write the same client just made.
  const reads = createRepositories(deps.database.db);
  const groups = new GroupService({
    unitOfWork: deps.unitOfWork,
    reads,
    authorization: deps.authorization,
    probe: new PinoGroupServiceProbe(deps.logger, ObservationContext.empty),
  });
  return {
    routes: [(server) => registerGroupRoutes(server, groups)],
    async start() {},
  };
}
