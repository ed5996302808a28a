/**
 * The service as `serve` assembles it (createService), over a test database and SpiceDB, trusting a
 * test issuer. Drive it with `server.inject(...)`.
 *
 *   const app = await startTestIamServer({ database: db.handle, spicedb, identity });
 *   const response = await app.server.inject({ method: "GET", url: "/iam/users?search=a", headers: ... });
 *
 * The database and SpiceDB are handed in rather than configured: an in-memory PGlite has no
 * configuration, and several servers of one test share one in-process SpiceDB (as one process
 * would). Their owner closes them.
 */
import { pino } from "pino";
import { createService, type Service, type ServiceTestHooks } from "../../src/app.js";
import { loadConfig, type AppConfig } from "../../src/platform/config/config.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import type { HttpServer, RouteRegistrar } from "../../src/platform/http/http-server.js";
import { createLogger, type Logger } from "../../src/platform/logging/logger.js";
import type { OutboxDispatcher } from "../../src/platform/outbox/outbox-dispatcher.js";
import type { CachedAuthorization } from "../../src/platform/spicedb/cached-authorization.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import type { TestIdentity } from "./test-identity.js";

export interface TestIamServer {
  readonly service: Service;
  readonly server: HttpServer;
  readonly config: AppConfig;
  /** The decision-cached port the services use. */
  readonly authorization: CachedAuthorization;
  readonly dispatcher: OutboxDispatcher;
  close(): Promise<void>;
}

export interface TestIamServerOptions {
  readonly database: DatabaseHandle;
  readonly spicedb: SpiceDbEngine;
  readonly identity: TestIdentity;
  /** More environment (e.g. KARTOGRAPH_IAM_SINGLE_TENANT_MODE=false). */
  readonly env?: Readonly<Record<string, string>>;
  /** Wraps the SpiceDB adapter (e.g. switchableAuthorization for an outage). */
  readonly authorization?: ServiceTestHooks["authorization"];
  readonly defaultTenantAccess?: ServiceTestHooks["defaultTenantAccess"];
  /** When given, every log line (debug and up, no redaction) is appended here. */
  readonly logLines?: string[];
  /** Routes registered after the IAM module's (e.g. a probe route for the auth hook). */
  readonly extraRoutes?: readonly RouteRegistrar[];
}

/** Entries that fail back off on the tests' time scale (the configured base is a second). */
const TEST_BACKOFF = { baseMs: 10, maxMs: 1000 };

export async function startTestIamServer(options: TestIamServerOptions): Promise<TestIamServer> {
  const config = loadConfig({ LOG_LEVEL: "silent", ...options.identity.env, ...options.env });
  const lines = options.logLines;
  const logger: Logger = lines
    ? pino({ level: "debug" }, { write: (line: string) => void lines.push(line) })
    : createLogger(config.logLevel, { pretty: false });
  /** Set once started; the hook below runs only on requests, after that. */
  const running: { service?: Service } = {};
  // Seeds write relationships and move the revision directly, as another process would. The
  // service adopts the database's revision before each /iam request over PostgreSQL only (over
  // PGlite it is the only process); the tests' server does so before every request, probe routes
  // included, on both.
  const adoptSeededRevision: RouteRegistrar = (server) => {
    server.addHook("onRequest", async () => {
      await running.service?.outbox.tracker.refresh(options.database.db);
    });
  };
  const service = await createService(config, logger, {
    database: options.database,
    spicedb: options.spicedb,
    outbox: { dispatcher: { backoff: TEST_BACKOFF } },
    testHooks: {
      ...(options.authorization ? { authorization: options.authorization } : {}),
      ...(options.defaultTenantAccess ? { defaultTenantAccess: options.defaultTenantAccess } : {}),
      routes: [adoptSeededRevision, ...(options.extraRoutes ?? [])],
    },
  });
  running.service = service;
  await service.server.ready();
  const started = service;
  return {
    service: started,
    server: started.server,
    config,
    authorization: started.outbox.authorization,
    dispatcher: started.outbox.dispatcher,
    close: () => started.close(),
  };
}
