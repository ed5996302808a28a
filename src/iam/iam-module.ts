/**
 * Wires the IAM bounded context: repositories, unit of work, services and routes. The composition
 * root (src/app.ts) hands in the platform pieces and registers what this returns.
 */
import type { AuthorizationPort } from "../shared-kernel/authorization/authorization-port.js";
import type { AppConfig } from "../platform/config/config.js";
import type { DatabaseHandle } from "../platform/database/database.js";
import type { RouteRegistrar } from "../platform/http/http-server.js";
import type { Logger } from "../platform/logging/logger.js";
import { LoggingTenantServiceProbe } from "./application/tenant-service-probe.js";
import { TenantService } from "./application/tenant-service.js";
import { LoggingWorkspaceServiceProbe } from "./application/workspace-service-probe.js";
import { WorkspaceService } from "./application/workspace-service.js";
import { createRepositories } from "./infrastructure/repositories.js";
import type { UnitOfWork } from "./ports/unit-of-work.js";
import { tenantRoutes } from "./presentation/tenant-routes.js";
import { workspaceRoutes } from "./presentation/workspace-routes.js";

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
  const { config } = deps;
  // Reads go to the primary: a replica could lag behind the caller's own last write.
  const repositories = createRepositories(deps.database.db);
  const workspaceService = new WorkspaceService({
    unitOfWork: deps.unitOfWork,
    repositories,
    authorization: deps.authorization,
    probe: new LoggingWorkspaceServiceProbe(deps.logger),
  });
  const tenantService = new TenantService({
    unitOfWork: deps.unitOfWork,
    repositories,
    authorization: deps.authorization,
    probe: new LoggingTenantServiceProbe(deps.logger),
    settings: {
      singleTenantMode: config.iam.singleTenantMode,
      defaultTenantName: config.iam.defaultTenantName,
      defaultWorkspaceName: config.iam.defaultWorkspaceName,
    },
  });
  return {
    routes: [
      tenantRoutes(tenantService, { singleTenantMode: config.iam.singleTenantMode }),
      workspaceRoutes(workspaceService),
    ],
    async start() {
      if (config.iam.singleTenantMode) await tenantService.ensureDefaultTenant();
    },
  };
}
