/**
 * Wires the IAM bounded context: repositories, unit of work, services and routes. The composition
 * root (src/app.ts) hands in the platform pieces and registers what this returns.
 */
import type { AuthorizationPort } from "../shared-kernel/authorization/authorization-port.js";
import type { AppConfig } from "../platform/config/config.js";
import type { DatabaseHandle } from "../platform/database/database.js";
import type { RouteRegistrar } from "../platform/http/http-server.js";
import type { ErrorShape } from "../platform/http/framework-errors.js";
import type { Logger } from "../platform/logging/logger.js";
import { AuthenticationService } from "./application/authentication-service.js";
import { ProvisionedUserCache } from "./application/provisioned-user-cache.js";
import type { DefaultTenantAccess } from "./application/default-tenant-access.js";
import { PinoTenantServiceProbe } from "./application/tenant-service-probe.js";
import { TenantService } from "./application/tenant-service.js";
import { PinoWorkspaceServiceProbe } from "./application/workspace-service-probe.js";
import { WorkspaceService } from "./application/workspace-service.js";
import { DevelopmentIssuer, DEVELOPMENT_ISSUER } from "./infrastructure/identity/development-issuer.js";
import { DiscoveredKeySet } from "./infrastructure/identity/discovered-key-set.js";
import { JwtVerifier } from "./infrastructure/identity/jwt-verifier.js";
import { pinoAuthenticationProbe } from "./infrastructure/pino-authentication-probe.js";
import { createRepositories } from "./infrastructure/repositories.js";
import { SCIM_TOKEN_PREFIX, Sha256ApiKeySecrets } from "./infrastructure/sha256-api-key-secrets.js";
import { DirectoryUserService } from "./application/directory-user-service.js";
import { DirectoryGroupService } from "./application/directory-group-service.js";
import { ScimTokenService } from "./application/scim-token-service.js";
import { DrizzleScimTokens } from "./infrastructure/drizzle-scim-tokens.js";
import { SCIM_ERROR_SHAPE, SCIM_PREFIX, scimRoutes } from "./presentation/scim/scim-routes.js";
import type { UserRepository } from "./ports/user-repository.js";
import type { UnitOfWork } from "./ports/unit-of-work.js";
import { ApiKeyService } from "./application/api-key-service.js";
import { OperatorService } from "./application/operator-service.js";
import { DrizzleOperatorDirectory } from "./infrastructure/drizzle-operator-directory.js";
import { AuditLogService } from "./application/audit-log-service.js";
import { PermissionQuestions } from "./application/permission-questions.js";
import { AccessReview } from "./application/access-review.js";
import { DrizzleAccessPaths } from "./infrastructure/drizzle-access-paths.js";
import { DrizzleTenantResources } from "./infrastructure/drizzle-tenant-resources.js";
import { DrizzleAuditLog } from "./infrastructure/drizzle-audit-log.js";
import { DrizzleUserRepository } from "./infrastructure/drizzle-user-repository.js";
import { DrizzleApiKeyRepository } from "./infrastructure/drizzle-api-key-repository.js";
import { UserService } from "./application/user-service.js";
import { KeptGroupLists } from "./infrastructure/kept-group-lists.js";
import { PinoApiKeyServiceProbe } from "./application/api-key-service-probe.js";
import { installAuthentication } from "./presentation/auth/authentication-hook.js";
import { iamRoutes } from "./presentation/iam-routes.js";
import { GroupService } from "./application/group-service.js";
import { PinoGroupServiceProbe } from "./application/group-service-probe.js";
import type { CacheStatsSource } from "../shared-kernel/bounded-cache.js";

export interface IamModuleDependencies {
  readonly config: AppConfig;
  readonly database: DatabaseHandle;
  /** Decision-cached, always at least as fresh as the last applied write. */
  readonly authorization: AuthorizationPort;
  readonly unitOfWork: UnitOfWork;
  /** Told of the audit events a user's provisioning commits (the unit of work reports its own). */
  readonly onAudited?: (count: number) => void;
  /** The authorization revision (moves with every applied IAM change); keys short-lived caches. */
  readonly authorizationRevision?: () => number;
  readonly logger: Logger;
  /**
   * Single-tenant mode's default tenant. Implemented by the tenant service; tests may pass a
   * purpose-built fake.
   */
  readonly defaultTenantAccess?: DefaultTenantAccess;
}

export interface IamModule {
  readonly routes: readonly RouteRegistrar[];
  /** The error bodies of the module's APIs that are not the server's `{"detail"}`: SCIM's. */
  readonly errorShapes: readonly ErrorShape[];
  /** The token-free operator commands (`kartograph-iam admin ...`). */
  readonly operator: OperatorService;
  /** The module's in-process caches, for /metrics. */
  readonly caches: readonly CacheStatsSource[];
  /** Start-up work before serving (e.g. the single-tenant bootstrap). */
  start(): Promise<void>;
}

async function tokenVerifierFor(config: AppConfig, logger: Logger): Promise<JwtVerifier> {
  const { oidc } = config;
  if (oidc.issuerUrl !== null) {
    const keys = new DiscoveredKeySet({
      issuerUrl: oidc.issuerUrl,
      onFetchFailure: (error, servingStaleKeys) =>
        logger.warn({ err: error, serving_stale_keys: servingStaleKeys }, "could not fetch the identity provider's keys"),
    });
    return new JwtVerifier({ issuer: oidc.issuerUrl, audience: oidc.audience, keys });
  }
  // loadConfig refuses a missing issuer in production; this is the development issuer.
  const issuer = await DevelopmentIssuer.open(config.database.dataDir);
  logger.warn(
    { key_directory: issuer.directory },
    "no KARTOGRAPH_OIDC_ISSUER_URL: trusting the development issuer; get a token with `kartograph-iam token <username>`",
  );
  return new JwtVerifier({
    issuer: DEVELOPMENT_ISSUER,
    audience: oidc.audience,
    keys: issuer.keySet(),
    // The key lives in the data directory: a token from before it was re-created cannot verify.
    // The hint goes to any unauthenticated client, so it names the folder, not the server's path
    // (the start-up line above logs that).
    unknownKeyHint:
      "This server's development signing key (the dev-issuer folder of its KARTOGRAPH_DATA_DIR) is not the one that signed the token; it is re-created with the data directory. Get a new token with the same KARTOGRAPH_DATA_DIR: npm run -s iam -- token <username>",
  });
}

/**
 * Usernames became case-insensitive in the "tenancy" migration; accounts that clashed then were all kept.
 * Said at every start until they are resolved (an account's exemption ends when its username changes).
 */
async function reportKeptUsernameClashes(users: UserRepository, logger: Logger): Promise<void> {
  const kept = await users.keptUsernameClashes();
  if (kept.length === 0) return;
  logger.warn(
    { accounts: kept.map((account) => ({ user_id: account.id, username: account.username })) },
    `${kept.length} account(s) keep a username that differs only in case from an older account's (usernames became case-insensitive in an upgrade, and both were kept)`,
  );
}

export async function createIamModule(deps: IamModuleDependencies): Promise<IamModule> {
  const { config, database, authorization, logger } = deps;
  // The one group-list cache (see KeptGroupLists), reported in /metrics with the others.
  const keptGroupLists = new KeptGroupLists();
  // What the services read outside their units of work: on the read database, which sends a
  // read-only request's queries to the replica once it is fenced (DatabaseHandle.readDb).
  const reads = createRepositories(database.readDb, database.kind, { keptGroupLists });
  const workspaceService = new WorkspaceService({
    unitOfWork: deps.unitOfWork,
    repositories: reads,
    authorization,
    probe: new PinoWorkspaceServiceProbe(logger),
  });
  // Shared: authentication remembers provisioned users, the tenant service forgets the ones it
  // invites, so that their next request binds the invitation.
  const provisionedUsers = new ProvisionedUserCache();
  const tenantService = new TenantService({
    provisionedUsers,
    unitOfWork: deps.unitOfWork,
    repositories: reads,
    authorization,
    probe: new PinoTenantServiceProbe(logger),
    settings: {
      singleTenantMode: config.iam.singleTenantMode,
      defaultTenantName: config.iam.defaultTenantName,
      defaultWorkspaceName: config.iam.defaultWorkspaceName,
      firstJoinerBecomesAdmin: config.iam.firstJoinerBecomesAdmin,
    },
  });
  const defaultTenant = deps.defaultTenantAccess ?? tenantService;
  const secrets = new Sha256ApiKeySecrets();
  const primaryApiKeys = new DrizzleApiKeyRepository(database.db);
  const tokens = await tokenVerifierFor(config, logger);
  const authentication = new AuthenticationService({
    settings: {
      userIdClaim: config.oidc.userIdClaim,
      usernameClaim: config.oidc.usernameClaim,
      singleTenantMode: config.iam.singleTenantMode,
      bootstrapAdminUsernames: config.iam.bootstrapAdminUsernames,
    },
    tokens,
    users: new DrizzleUserRepository(database.db, deps.onAudited ? { onAudited: deps.onAudited } : {}),
    apiKeys: {
      // The look-up may use the replica; stamping the key's last use is a write, on the primary.
      findUsableCredential: (digest, now) => reads.apiKeys.findUsableCredential(digest, now),
      recordUse: (id, at, resolutionMs) => primaryApiKeys.recordUse(id, at, resolutionMs),
    },
    secrets,
    authorization,
    defaultTenant,
    invitations: tenantService,
    provisionedUsers,
    probe: pinoAuthenticationProbe(logger),
    ...(deps.authorizationRevision ? { revision: deps.authorizationRevision } : {}),
  });

  const apiKeys = new ApiKeyService({
    unitOfWork: deps.unitOfWork,
    authorization,
    apiKeys: reads.apiKeys,
    secrets,
    probe: new PinoApiKeyServiceProbe(logger),
  });
  const users = new UserService(reads.users, reads.tenants);
  const groups = new GroupService({
    unitOfWork: deps.unitOfWork,
    repositories: reads,
    authorization,
    probe: new PinoGroupServiceProbe(logger),
  });

  // SCIM: tokens are looked up on the primary (a revocation must hold at once, on every process).
  const scimTokens = new ScimTokenService({
    unitOfWork: deps.unitOfWork,
    tokens: new DrizzleScimTokens(database.db),
    secrets: new Sha256ApiKeySecrets(SCIM_TOKEN_PREFIX),
    authorization,
  });
  const directoryUsers = new DirectoryUserService({ unitOfWork: deps.unitOfWork, users: reads.directoryUsers });
  const directoryGroups = new DirectoryGroupService({ unitOfWork: deps.unitOfWork, repositories: reads });

  const operator = new OperatorService({
    directory: new DrizzleOperatorDirectory(database.db),
    unitOfWork: deps.unitOfWork,
    rootWorkspaceName: (tenantName) => config.iam.defaultWorkspaceName ?? tenantName,
  });


  return {
    operator,
    errorShapes: [SCIM_ERROR_SHAPE],
    caches: [tokens, ...authentication.caches, keptGroupLists],
    routes: [
      // Authentication first, on the server itself: its hook and request decorations serve every
      // route that declares `config.auth`, inside the IAM plugin or not.
      // SCIM authenticates on its own, against the same failed-authentication limit.
      async (server) => {
        const failureLimit = await installAuthentication(server, authentication, config.authFailures);
        await server.register(scimRoutes, { prefix: SCIM_PREFIX, tokens: scimTokens, users: directoryUsers, groups: directoryGroups, failureLimit });
      },
      async (server) => {
        await server.register(iamRoutes, {
          tenants: tenantService,
          workspaces: workspaceService,
          groups,
          users,
          apiKeys,
          auditLog: new AuditLogService({ log: new DrizzleAuditLog(database.readDb), authorization }),
          accessReview: new AccessReview({ authorization, paths: new DrizzleAccessPaths(database.readDb), tenants: reads.tenants }),
          permissions: new PermissionQuestions({ authorization, resources: new DrizzleTenantResources(database.readDb), tenants: reads.tenants }),
          scimTokens,
          singleTenantMode: config.iam.singleTenantMode,
        });
      },
    ],
    async start() {
      if (config.iam.singleTenantMode) await defaultTenant.ensureDefaultTenant();
      await reportKeptUsernameClashes(reads.users, logger);
    },
  };
}
