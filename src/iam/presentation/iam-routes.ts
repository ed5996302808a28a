/**
 * The IAM HTTP API as one encapsulated Fastify plugin with a plugin per resource inside it, the
 * way Fastify's documentation structures an application. Its error handler maps domain errors to
 * status codes for every route below it (error-mapping.ts), so a handler simply calls its service.
 *
 * Authentication is not part of it: the hook serves every route that declares `config.auth`
 * (auth/authentication-hook.ts) and is installed on the server before this plugin.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { ApiKeyService } from "../application/api-key-service.js";
import type { AuditLogService } from "../application/audit-log-service.js";
import { auditRoutes } from "./audit-routes.js";
import type { GroupService } from "../application/group-service.js";
import type { TenantService } from "../application/tenant-service.js";
import type { UserService } from "../application/user-service.js";
import type { WorkspaceService } from "../application/workspace-service.js";
import { apiKeyRoutes } from "./api-key-routes.js";
import { mapDomainErrors } from "./error-mapping.js";
import type { PermissionQuestions } from "../application/permission-questions.js";
import { permissionRoutes } from "./permission-routes.js";
import type { AccessReview } from "../application/access-review.js";
import { accessReviewRoutes } from "./access-review-routes.js";
import { groupRoutes } from "./group-routes.js";
import { tenantRoutes } from "./tenant-routes.js";
import { userRoutes } from "./user-routes.js";
import { workspaceRoutes } from "./workspace-routes.js";
import type { ScimTokenService } from "../application/scim-token-service.js";
import { scimTokenRoutes } from "./scim-token-routes.js";

export interface IamRoutesOptions {
  readonly tenants: TenantService;
  readonly workspaces: WorkspaceService;
  readonly groups: GroupService;
  readonly users: UserService;
  readonly apiKeys: ApiKeyService;
  readonly auditLog: AuditLogService;
  readonly permissions: PermissionQuestions;
  readonly accessReview: AccessReview;
  readonly scimTokens: ScimTokenService;
  readonly singleTenantMode: boolean;
}

export const iamRoutes: FastifyPluginAsyncTypebox<IamRoutesOptions> = async (server, options) => {
  // Before the routes: a route keeps the error handler of the context it was registered in.
  server.setErrorHandler(mapDomainErrors);
  await server.register(tenantRoutes, { service: options.tenants, singleTenantMode: options.singleTenantMode });
  await server.register(workspaceRoutes, { service: options.workspaces });
  await server.register(apiKeyRoutes, { service: options.apiKeys });
  await server.register(userRoutes, { service: options.users });
  await server.register(groupRoutes, { service: options.groups });
  await server.register(auditRoutes, { service: options.auditLog });
  await server.register(permissionRoutes, { service: options.permissions });
  await server.register(accessReviewRoutes, { service: options.accessReview });
  await server.register(scimTokenRoutes, { service: options.scimTokens });
};
