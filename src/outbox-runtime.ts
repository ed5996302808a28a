/**
 * Builds the relationship-sync machinery shared by `serve`, `worker` and `reconcile`: the revision
 * tracker, the decision-cached authorization port, the outbox dispatcher with the IAM handler, the
 * unit of work, and the worker. Also loads the embedded SpiceDB from the tables at start.
 */
import type { AppConfig } from "./platform/config/config.js";
import type { DatabaseHandle } from "./platform/database/database.js";
import type { Logger } from "./platform/logging/logger.js";
import { AuthzRevisionTracker } from "./platform/outbox/authz-revision.js";
import { OutboxDispatcher, type DispatcherOptions } from "./platform/outbox/outbox-dispatcher.js";
import { LoggingOutboxProbe, type OutboxProbe } from "./platform/outbox/outbox-probe.js";
import { OutboxMetrics } from "./platform/outbox/outbox-metrics.js";
import { OutboxWorker } from "./platform/outbox/outbox-worker.js";
import { AuditSealer } from "./platform/audit/audit-sealer.js";
import { LoggingAuditSealerProbe } from "./platform/audit/audit-sealer-probe.js";
import { AuditMetrics } from "./platform/audit/audit-metrics.js";
import type { Registry } from "prom-client";
import { CachedAuthorization } from "./platform/spicedb/cached-authorization.js";
import { MeteredAuthorization, SpiceDbMetrics } from "./platform/spicedb/metered-authorization.js";
import type { AuthorizationPort } from "./shared-kernel/authorization/authorization-port.js";
import { writeAcceptedUpdates, type RefusedUpdate } from "./platform/spicedb/accepted-updates.js";
import { permissionSchemaIsMonotonic } from "./platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "./iam/infrastructure/drizzle-unit-of-work.js";
import { RelationshipSyncHandler } from "./iam/infrastructure/relationship-sync-handler.js";
import { deriveRelationships } from "./iam/infrastructure/relationship-derivation.js";

export interface OutboxRuntime {
  readonly tracker: AuthzRevisionTracker;
  readonly authorization: CachedAuthorization;
  readonly dispatcher: OutboxDispatcher;
  readonly unitOfWork: DrizzleUnitOfWork;
  readonly worker: OutboxWorker;
  /** Seals audit events into their tenants' chains after commit; runs where the worker runs. */
  readonly sealer: AuditSealer;
  /** To be told of audit events committed outside the unit of work (a user's provisioning). */
  readonly onAudited: (count: number) => void;
}

export interface OutboxRuntimeOptions {
  readonly probe?: OutboxProbe;
  readonly dispatcher?: Partial<DispatcherOptions>;
  /** Listen for NOTIFY (default) or poll only. */
  readonly listen?: boolean;
  /** Overrides the configured poll interval (tests). */
  readonly pollIntervalMs?: number;
  /** Whether to record audit events, asked per change (default: always; the bench switches it to measure their cost). */
  readonly recordAudit?: () => boolean;
  /** Where the outbox's and SpiceDB's metrics go (/metrics); none are kept without one. */
  readonly registry?: Registry;
}

export async function createOutboxRuntime(
  config: AppConfig,
  database: DatabaseHandle,
  spicedb: { readonly authorization: AuthorizationPort },
  logger: Logger,
  options: OutboxRuntimeOptions = {},
): Promise<OutboxRuntime> {
  const reported = options.probe ?? new LoggingOutboxProbe(logger);
  const probe = options.registry ? new OutboxMetrics(options.registry, database.db).counting(reported) : reported;
  // Every SpiceDB call of the process below goes through here: the outbox's writes, the cache's misses.
  const engine: AuthorizationPort = options.registry
    ? new MeteredAuthorization(spicedb.authorization, new SpiceDbMetrics(options.registry))
    : spicedb.authorization;
  const tracker = new AuthzRevisionTracker();
  await tracker.refresh(database.db);
  const dispatcher = new OutboxDispatcher(database.db, [new RelationshipSyncHandler(engine)], tracker, probe, {
    batchSize: config.outbox.batchSize,
    maxRetries: config.outbox.maxRetries,
    backoff: { baseMs: 1_000, maxMs: 30_000 },
    ...options.dispatcher,
  });
  // Counted, and the sealer woken, for every committed audit event.
  const onAudited = (count: number) => {
    auditMetrics?.eventsWritten(count);
    sealer.wake();
  };
  const unitOfWork = new DrizzleUnitOfWork(database.db, dispatcher, {
    onApplyFailure: (tenantId, error) => probe.drainFailed(tenantId, error instanceof Error ? error.message : String(error)),
    // Not at once: what failed just now fails again; the worker's own back-off starts from here.
    handOver: (tenantId) => worker.schedule(tenantId, HAND_OVER_DELAY_MS),
    recordAudit: options.recordAudit,
    onAudited,
  });
  const auditMetrics = options.registry ? new AuditMetrics(options.registry, database.db) : null;
  const sealerProbe = new LoggingAuditSealerProbe(logger);
  const sealer = new AuditSealer(database.db, auditMetrics?.counting(sealerProbe) ?? sealerProbe, { retentionDays: config.audit.retentionDays });
  const worker = new OutboxWorker(database, dispatcher, probe, {
    pollIntervalMs: options.pollIntervalMs ?? config.outbox.pollIntervalSeconds * 1000,
    listen: options.listen ?? true,
    retentionHours: config.outbox.retentionHours,
  });
  return {
    tracker,
    authorization: new CachedAuthorization(engine, tracker, { monotonicSchema: permissionSchemaIsMonotonic() }),
    dispatcher,
    unitOfWork,
    worker,
    sealer,
    onAudited,
  };
}

/** How soon the process's worker retries a tenant its writer could not apply. */
const HAND_OVER_DELAY_MS = 250;

/**
 * The in-process SpiceDB keeps nothing across restarts: load it from the tables (the source of
 * truth). Pending outbox entries are applied afterwards by the worker, in order, on top. A
 * relationship SpiceDB refuses does not stop the start: everything else is loaded, and the refused
 * ones are returned for the log and /health/ready.
 */
export async function loadEmbeddedSpiceDb(
  database: DatabaseHandle,
  spicedb: { readonly authorization: Pick<AuthorizationPort, "writeRelationships"> },
): Promise<EmbeddedLoad> {
  const relationships = await deriveRelationships(database.db);
  const { refused } = await writeAcceptedUpdates(
    spicedb.authorization,
    relationships.map((relationship) => ({ operation: "touch" as const, relationship })),
  );
  return { loaded: relationships.length - refused.length, refused };
}

export interface EmbeddedLoad {
  readonly loaded: number;
  readonly refused: readonly RefusedUpdate[];
}
