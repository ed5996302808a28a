/**
 * Composition root: opens the database and SpiceDB, wires the IAM context into the platform and
 * returns a service that can listen and shut down. The only module that knows every layer.
 */
import { Registry } from "prom-client";
import type { AppConfig } from "./platform/config/config.js";
import type { DatabaseHandle } from "./platform/database/database.js";
import { openDatabase } from "./platform/database/open-database.js";
import { MaintenanceSchedule } from "./platform/database/pglite-maintenance.js";
import { buildHttpServer, type HttpServer, type RouteRegistrar } from "./platform/http/http-server.js";
import { registerCacheMetrics } from "./platform/metrics/cache-metrics.js";
import { registerReplicaMetrics } from "./platform/metrics/replica-metrics.js";
import { withReadFence } from "./platform/database/replica/read-scope.js";
import { serviceHealthChecks } from "./platform/http/service-health-checks.js";
import { describeRefused } from "./platform/spicedb/accepted-updates.js";
import type { Logger } from "./platform/logging/logger.js";
import type { AuthorizationPort } from "./shared-kernel/authorization/authorization-port.js";
import { startSpiceDb, type SpiceDbEngine } from "./platform/spicedb/spicedb-engine.js";
import { claimSpiceDbMode } from "./platform/spicedb/spicedb-mode-claim.js";
import { claimSpiceDbForDatabase } from "./platform/spicedb/installation-claim.js";
import { createIamModule, type IamModuleDependencies } from "./iam/iam-module.js";
import type { OperatorService } from "./iam/application/operator-service.js";
import { createOutboxRuntime, loadEmbeddedSpiceDb, type OutboxRuntime, type OutboxRuntimeOptions } from "./outbox-runtime.js";

/** Requests whose reads may be served by the read replica. */
const READ_ONLY_METHODS = new Set(["GET", "HEAD"]);

/**
 * How often the embedded database is checked for tables to vacuum or analyze (a cheap look at
 * pg_stat_user_tables; the work itself waits for autovacuum's thresholds). Every minute was too
 * rare for a growing tenant: a prepared statement keeps the plan it got while its table was small
 * (a whole-table scan) until an ANALYZE invalidates it. The workspace look-up by id took 3.9 ms at
 * 20,000 workspaces with the plan of one, 0.2 ms once analyzed; creating workspaces from a fresh
 * start, POST /iam/workspaces took 3.0-4.8 ms until the first run at 60 s, 2.0-2.6 ms after it.
 */
const EMBEDDED_MAINTENANCE_INTERVAL_MS = 10_000;

export interface Service {
  readonly config: AppConfig;
  readonly server: HttpServer;
  readonly database: DatabaseHandle;
  readonly spicedb: SpiceDbEngine;
  readonly outbox: OutboxRuntime;
  /** The operator commands, for `kartograph-iam admin`. */
  readonly operator: OperatorService;
  /** Stops accepting, finishes in-flight requests, then closes pools and SpiceDB. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Apply pending migrations before serving (the default for `serve`). */
  readonly migrate?: boolean;
  /** Use this database instead of opening the configured one (tests). */
  readonly database?: DatabaseHandle;
  /** Outbox tuning (tests and benchmarks). */
  readonly outbox?: OutboxRuntimeOptions;
  /** Use this SpiceDB instead of starting the configured one (tests: servers sharing one engine); its owner closes it. */
  readonly spicedb?: SpiceDbEngine;
  /** Purpose-built parts for tests, in place of or beside the real ones. The CLI sets none. */
  readonly testHooks?: ServiceTestHooks;
}

/**
 * The few places where a test puts its own part into the real wiring, so that tests run the
 * service users run rather than a second assembly of it.
 */
export interface ServiceTestHooks {
  /** Wraps the SpiceDB adapter the outbox writes through and the decision cache reads through (e.g. an outage switch). */
  readonly authorization?: (real: AuthorizationPort) => AuthorizationPort;
  /** Single-tenant mode's default tenant, instead of the tenant service. */
  readonly defaultTenantAccess?: IamModuleDependencies["defaultTenantAccess"];
  /** Registered after the IAM routes (e.g. probe routes behind the authentication hook). */
  readonly routes?: readonly RouteRegistrar[];
}

export async function createService(config: AppConfig, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  // Open both engines at once: a new embedded database is created on a worker thread, and PGlite
  // compiles its WebAssembly in the background, while SpiceDB starts on this one.
  const [opened, started] = await Promise.allSettled([
    options.database ? Promise.resolve(options.database) : openDatabase(config.database, { migrate: options.migrate ?? true }),
    options.spicedb ? Promise.resolve(options.spicedb) : startSpiceDb(config.spicedb),
  ]);
  if (opened.status === "rejected") {
    if (started.status === "fulfilled" && !options.spicedb) await started.value.close();
    throw opened.reason;
  }
  const database = opened.value;
  for (const notice of database.notices) logger.warn(notice);
  database.replica?.monitor.onChange((usable, reason) =>
    usable ? logger.info({ reason }, "read replica serves reads") : logger.warn({ reason }, "read replica serves no reads; they go to the primary"),
  );
  if (started.status === "rejected") {
    if (!options.database) await database.close();
    throw started.reason;
  }
  const spicedb = started.value;
  const claim = await claimForSpiceDb(config, database, spicedb).catch(async (error: unknown) => {
    if (!options.spicedb) await spicedb.close();
    if (!options.database) await database.close();
    throw error;
  });
  const hooks = options.testHooks ?? {};
  const adapter = { authorization: hooks.authorization?.(spicedb.authorization) ?? spicedb.authorization };
  let notLoaded = 0;
  if (spicedb.mode === "embedded") {
    const { loaded, refused } = await loadEmbeddedSpiceDb(database, adapter);
    logger.info({ relationships: loaded, off_event_loop: spicedb.offEventLoop }, "embedded SpiceDB loaded from the database");
    // Each one is access missing for someone: say which, and keep saying so on /health/ready.
    for (const r of refused) logger.error({ relationship: describeRefused(r) }, "relationship_not_loaded");
    notLoaded = refused.length;
  }
  // One registry for the process: request, outbox, SpiceDB and cache metrics on one /metrics.
  const metrics = new Registry();
  const outbox = await createOutboxRuntime(config, database, adapter, logger, { ...options.outbox, registry: metrics });
  const iam = await createIamModule({
    config,
    database,
    authorization: outbox.authorization,
    unitOfWork: outbox.unitOfWork,
    onAudited: outbox.onAudited,
    authorizationRevision: () => outbox.tracker.current().revision,
    logger,
    ...(hooks.defaultTenantAccess ? { defaultTenantAccess: hooks.defaultTenantAccess } : {}),
  });
  registerCacheMetrics(metrics, [outbox.authorization, ...iam.caches]);
  if (database.replica) registerReplicaMetrics(metrics, database.replica);
  const server = await buildHttpServer({
    logger,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    errorShapes: iam.errorShapes,
    metrics,
    health: serviceHealthChecks(database, spicedb, config.graphName, () => notLoaded),
    routes: [
      (server) => {
        if (database.replica) {
          // The same read also gives the fence of read-only requests: their reads may use the
          // replica once it has replayed that far (platform/database/replica/read-scope.ts).
          server.addHook("onRequest", (request, _reply, done) => {
            if (!request.url.startsWith("/iam")) return done();
            outbox.tracker.refreshWithFence(database.db).then(
              (fence) => (READ_ONLY_METHODS.has(request.method) ? withReadFence(fence, done) : done()),
              (error: unknown) => done(error as Error),
            );
          });
        } else if (database.kind === "postgres") {
          // Other processes may have applied writes: adopt the newest revision before answering,
          // so cached decisions never predate a write that returned elsewhere.
          server.addHook("onRequest", async (request) => {
            if (request.url.startsWith("/iam")) await outbox.tracker.refresh(database.db);
          });
        }
      },
      ...iam.routes,
      ...(hooks.routes ?? []),
    ],
  });
  await iam.start();
  if (config.outbox.enabled) {
    await outbox.worker.start();
    outbox.sealer.start();
  }
  // PGlite has no autovacuum; a database handed in (tests) is maintained by its owner.
  const maintenance =
    database.kind === "pglite" && !options.database
      ? new MaintenanceSchedule(database.db, {
          intervalMs: EMBEDDED_MAINTENANCE_INTERVAL_MS,
          onRun: (run, durationMs) => logger.info({ ...run, duration_ms: Math.round(durationMs) }, "embedded database maintenance"),
          onError: (error) => logger.warn({ err: error }, "embedded database maintenance failed"),
        })
      : null;
  maintenance?.start();

  let closing: Promise<void> | null = null;
  return {
    config,
    server,
    database,
    spicedb,
    outbox,
    operator: iam.operator,
    close() {
      closing ??= (async () => {
        await server.close();
        await maintenance?.stop();
        await outbox.worker.stop();
        await outbox.sealer.stop();
        if (!options.database) await database.close();
        if (!options.spicedb) await spicedb.close();
        await claim?.release();
      })();
      return closing;
    },
  };
}

/**
 * Claims the database for this process's kind of SpiceDB (see spicedb-mode-claim.ts): one process
 * per database may run the in-process engine, any number a shared one, never both at once; and a
 * shared SpiceDB for this database, which no other database may write to.
 */
async function claimForSpiceDb(config: AppConfig, database: DatabaseHandle, spicedb: SpiceDbEngine) {
  const claim = database.kind === "postgres" ? await claimSpiceDbMode(config.database, spicedb.mode) : null;
  // A shared SpiceDB must be this database's (installation-claim.ts); an in-process one is new at each start.
  if (spicedb.mode === "remote") {
    await claimSpiceDbForDatabase(database.db, spicedb.authorization, config.spicedb.endpoint).catch(async (error: unknown) => {
      await claim?.release();
      throw error;
    });
  }
  return claim;
}
