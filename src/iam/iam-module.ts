/**
 * Wires the IAM bounded context: repositories, unit of work, services and routes. The composition
 * root (src/app.ts) hands in the platform pieces and registers what this returns.
 */
import type { AuthorizationPort } from "../shared-kernel/authorization/authorization-port.js";
import type { AppConfig } from "../platform/config/config.js";
import type { DatabaseHandle } from "../platform/database/database.js";
import type { RouteRegistrar } from "../platform/http/http-server.js";
import type { Logger } from "../platform/logging/logger.js";
import { AuthenticationService } from "./application/authentication-service.js";
import type { DefaultTenantAccess } from "./application/default-tenant-access.js";
import { DevelopmentIssuer, DEVELOPMENT_ISSUER } from "./infrastructure/identity/development-issuer.js";
import { DiscoveredKeySet } from "./infrastructure/identity/discovered-key-set.js";
import { JwtVerifier } from "./infrastructure/identity/jwt-verifier.js";
import { pinoAuthenticationProbe } from "./infrastructure/pino-authentication-probe.js";
import { createRepositories } from "./infrastructure/repositories.js";
import { Sha256ApiKeySecrets } from "./infrastructure/sha256-api-key-secrets.js";
import type { TokenVerifier } from "./ports/token-verifier.js";
import { installAuthentication } from "./presentation/auth/authentication-hook.js";
import type { UnitOfWork } from "./ports/unit-of-work.js";

export interface IamModuleDependencies {
  readonly config: AppConfig;
  readonly database: DatabaseHandle;
  /** Decision-cached, always at least as fresh as the last applied write. */
  readonly authorization: AuthorizationPort;
  readonly unitOfWork: UnitOfWork;
  readonly logger: Logger;
  /**
   * Single-tenant mode's default tenant. Implemented by the tenant service; tests may pass a
   * purpose-built fake.
   */
  readonly defaultTenantAccess?: DefaultTenantAccess;
}

export interface IamModule {
  readonly routes: readonly RouteRegistrar[];
  /** Start-up work before serving (e.g. the single-tenant bootstrap). */
  start(): Promise<void>;
}

/** Until the tenant service provides it: single-tenant callers without X-Tenant-ID get a 500. */
const defaultTenantNotWired: DefaultTenantAccess = {
  ensureDefaultTenant: () => Promise.reject(new Error("the default tenant is not available (tenant service not wired)")),
  join: () => Promise.reject(new Error("the default tenant is not available (tenant service not wired)")),
};

async function tokenVerifierFor(config: AppConfig, logger: Logger): Promise<TokenVerifier> {
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
  return new JwtVerifier({ issuer: DEVELOPMENT_ISSUER, audience: oidc.audience, keys: issuer.keySet() });
}

export async function createIamModule(deps: IamModuleDependencies): Promise<IamModule> {
  const { config, database, authorization, logger } = deps;
  const repositories = createRepositories(database.db);
  const secrets = new Sha256ApiKeySecrets();
  const authentication = new AuthenticationService({
    settings: {
      userIdClaim: config.oidc.userIdClaim,
      usernameClaim: config.oidc.usernameClaim,
      singleTenantMode: config.iam.singleTenantMode,
      bootstrapAdminUsernames: config.iam.bootstrapAdminUsernames,
    },
    tokens: await tokenVerifierFor(config, logger),
    users: repositories.users,
    apiKeys: repositories.apiKeys,
    secrets,
    authorization,
    defaultTenant: deps.defaultTenantAccess ?? defaultTenantNotWired,
    probe: pinoAuthenticationProbe(logger),
  });

  return {
    // Authentication first: its hook and request decorations exist before any IAM route.
    routes: [(server) => installAuthentication(server, authentication)],
    async start() {},
  };
}
