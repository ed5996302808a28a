/**
 * The HTTP server with the IAM module, over a test database and SpiceDB, trusting a test issuer.
 * Drive it with `server.inject(...)`.
 *
 *   const app = await startTestIamServer({ database: db.handle, authorization: spicedb.authorization, identity });
 *   const response = await app.server.inject({ method: "GET", url: "/iam/users?search=a", headers: ... });
 */
import type { DefaultTenantAccess } from "../../src/iam/application/default-tenant-access.js";
import { createIamModule, type IamModule } from "../../src/iam/iam-module.js";
import { loadConfig, type AppConfig } from "../../src/platform/config/config.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import { buildHttpServer, type HttpServer, type RouteRegistrar } from "../../src/platform/http/http-server.js";
import { createLogger, type Logger } from "../../src/platform/logging/logger.js";
import { pino } from "pino";
import type { AuthorizationPort } from "../../src/shared-kernel/authorization/authorization-port.js";
import { AuthzRevisionTracker } from "../../src/platform/outbox/authz-revision.js";
import { OutboxDispatcher } from "../../src/platform/outbox/outbox-dispatcher.js";
import { LoggingOutboxProbe } from "../../src/platform/outbox/outbox-probe.js";
import { CachedAuthorization } from "../../src/platform/spicedb/cached-authorization.js";
import { permissionSchemaIsMonotonic } from "../../src/platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "../../src/iam/infrastructure/drizzle-unit-of-work.js";
import { RelationshipSyncHandler } from "../../src/iam/infrastructure/relationship-sync-handler.js";
import type { TestIdentity } from "./test-identity.js";

export interface TestIamServer {
  readonly server: HttpServer;
  readonly config: AppConfig;
  readonly module: IamModule;
  /** The decision-cached port the services use. */
  readonly authorization: CachedAuthorization;
  readonly dispatcher: OutboxDispatcher;
  close(): Promise<void>;
}

export interface TestIamServerOptions {
  readonly database: DatabaseHandle;
  /** The SpiceDB adapter (uncached): the outbox writes through it, services read through a cache over it. */
  readonly authorization: AuthorizationPort;
  readonly identity: TestIdentity;
  /** More environment (e.g. KARTOGRAPH_IAM_SINGLE_TENANT_MODE=false). */
  readonly env?: Readonly<Record<string, string>>;
  readonly defaultTenantAccess?: DefaultTenantAccess;
  /** When given, every log line (debug and up, no redaction) is appended here. */
  readonly logLines?: string[];
  /** Routes registered after the IAM module's (e.g. a probe route for the auth hook). */
  readonly extraRoutes?: readonly RouteRegistrar[];
}

export async function startTestIamServer(options: TestIamServerOptions): Promise<TestIamServer> {
  const config = loadConfig({ LOG_LEVEL: "silent", ...options.identity.env, ...options.env });
  const lines = options.logLines;
  const logger: Logger = lines
    ? pino({ level: "debug" }, { write: (line: string) => void lines.push(line) })
    : createLogger(config.logLevel, { pretty: false });
  // The real relationship pipeline: unit of work → outbox → drain → SpiceDB, decision cache on top.
  const tracker = new AuthzRevisionTracker();
  await tracker.refresh(options.database.db);
  const dispatcher = new OutboxDispatcher(
    options.database.db,
    [new RelationshipSyncHandler(options.authorization)],
    tracker,
    new LoggingOutboxProbe(logger),
    { batchSize: 100, maxRetries: 5, backoff: { baseMs: 10, maxMs: 1000 } },
  );
  const authorization = new CachedAuthorization(options.authorization, tracker, { monotonicSchema: permissionSchemaIsMonotonic() });
  const module = await createIamModule({
    config,
    database: options.database,
    authorization,
    unitOfWork: new DrizzleUnitOfWork(options.database.db, dispatcher),
    authorizationRevision: () => tracker.current().revision,
    logger,
    ...(options.defaultTenantAccess ? { defaultTenantAccess: options.defaultTenantAccess } : {}),
  });
  await module.start();
  const server = await buildHttpServer({
    logger,
    corsOrigins: [],
    health: {
      graphName: "test",
      pingDatabase: () => options.database.ping(),
      migrationsCurrent: async () => true,
      pingAuthorization: async () => undefined,
    },
    routes: [
      (server) => {
        // As in a cluster: adopt the database's revision first (test seeds move it directly).
        server.addHook("onRequest", async () => {
          await tracker.refresh(options.database.db);
        });
      },
      ...module.routes,
      ...(options.extraRoutes ?? []),
    ],
  });
  await server.ready();
  return { server, config, module, authorization, dispatcher, close: () => server.close() };
}
