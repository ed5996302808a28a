/**
 * Applies outbox entries in the background: woken by NOTIFY on `outbox_events` (payload: the
 * tenant id), with polling as the fallback, and timers for entries backing off. Several workers,
 * in one process or many, share the table: a tenant is drained by one of them at a time. The poll
 * also deletes applied entries past their retention, so the table does not grow without end.
 */
import type { DatabaseHandle } from "../database/database.js";
import type { OutboxDispatcher } from "./outbox-dispatcher.js";
import type { OutboxProbe } from "./outbox-probe.js";
import { OUTBOX_CHANNEL, purgeProcessed, tenantsWithPendingEntries } from "./outbox-store.js";

export interface OutboxWorkerOptions {
  readonly pollIntervalMs: number;
  /** Listen for NOTIFY (true) or rely on polling alone (false; for measurements). */
  readonly listen: boolean;
  /** Tenants drained at the same time. */
  readonly concurrency?: number;
  /** Applied entries older than this are deleted; 0 keeps them. */
  readonly retentionHours?: number;
  /** How often the poll purges (default every 10 minutes). */
  readonly purgeEveryMs?: number;
  /** How long the worker leaves a tenant this process is draining (default WRITER_GRACE_MS). */
  readonly writerGraceMs?: number;
}

const PURGE_EVERY_MS = 10 * 60_000;
/** Rows deleted per statement: keeps each purge transaction short. */
const PURGE_BATCH = 5_000;

/**
 * A writer drains its own entries right after its commit (read-your-writes). When a writer of this
 * process is draining a tenant that a NOTIFY or the poll points at, the worker looks only this much
 * later, for what the writer may leave behind (SpiceDB failed): one look per tenant per grace
 * period, however many commits, instead of a lock attempt racing every writer. Other tenants are
 * drained at once.
 */
export const WRITER_GRACE_MS = 200;
/** When another drain holds a tenant, look again shortly: it may stop before our entries. */
const LOCK_BUSY_RETRY_MS = 100;
const SWEEP_TENANT_LIMIT = 1000;
/** First retry of a drain that failed (database or SpiceDB away); doubles up to the poll interval. */
const DRAIN_RETRY_BASE_MS = 250;

export class OutboxWorker {
  private running = false;
  private unlisten: (() => Promise<void>) | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queued = new Set<string>();
  private readonly active = new Map<string, Promise<void>>();
  /** Drains of a tenant that failed in a row (database or SpiceDB away), for the retry back-off. */
  private readonly drainFailures = new Map<string, number>();
  private lastPurgeAt = 0;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly dispatcher: OutboxDispatcher,
    private readonly probe: OutboxProbe,
    private readonly options: OutboxWorkerOptions,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.listen) {
      this.unlisten = await this.database.listen(OUTBOX_CHANNEL, (tenantId) => {
        if (tenantId !== "") this.schedule(tenantId, this.graceFor(tenantId));
      });
    }
    this.probe.workerStarted(this.options.listen ? "notify" : "poll-only");
    this.poll();
  }

  /** Stops taking work and waits for the drains in hand to commit. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queued.clear();
    await this.unlisten?.().catch(() => undefined);
    await Promise.allSettled(this.active.values());
    this.probe.workerStopped();
  }

  /** How long to leave a tenant alone: a writer of this process that is draining it goes first. */
  private graceFor(tenantId: string): number {
    return this.dispatcher.isDraining(tenantId) ? (this.options.writerGraceMs ?? WRITER_GRACE_MS) : 0;
  }

  /** Drains a tenant soon (coalesces repeated wake-ups). */
  schedule(tenantId: string, delayMs = 0): void {
    if (!this.running) return;
    if (delayMs > 0) {
      if (this.timers.has(tenantId)) return;
      this.timers.set(
        tenantId,
        setTimeout(() => {
          this.timers.delete(tenantId);
          this.schedule(tenantId);
        }, delayMs),
      );
      return;
    }
    this.queued.add(tenantId);
    this.pump();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4;
    for (const tenantId of this.queued) {
      if (this.active.size >= limit) return;
      if (this.active.has(tenantId)) continue;
      this.queued.delete(tenantId);
      const run = this.drainTenant(tenantId).finally(() => {
        this.active.delete(tenantId);
        this.pump();
      });
      this.active.set(tenantId, run);
    }
  }

  private async drainTenant(tenantId: string): Promise<void> {
    try {
      for (;;) {
        const result = await this.dispatcher.drain(tenantId, { wait: false });
        this.drainFailures.delete(tenantId); // the database and SpiceDB answered
        if (result.lockBusy) return this.schedule(tenantId, LOCK_BUSY_RETRY_MS);
        if (result.blockedUntil !== null) {
          return this.schedule(tenantId, Math.max(10, result.blockedUntil.getTime() - Date.now()));
        }
        if (!result.more || !this.running) return;
      }
    } catch (error) {
      this.probe.drainFailed(tenantId, error instanceof Error ? error.message : String(error));
      // The database (or SpiceDB) is away: look again soon, then less often, never later than the
      // poll, so that committed changes apply within about a second of it coming back.
      const failures = (this.drainFailures.get(tenantId) ?? 0) + 1;
      this.drainFailures.set(tenantId, failures);
      this.schedule(tenantId, Math.min(this.options.pollIntervalMs, DRAIN_RETRY_BASE_MS * 2 ** Math.min(failures - 1, 10)));
    }
  }

  private poll(): void {
    if (!this.running) return;
    tenantsWithPendingEntries(this.database.db, SWEEP_TENANT_LIMIT)
      .then(async (tenants) => {
        for (const { tenantId, dueAt } of tenants) this.schedule(tenantId, Math.max(this.graceFor(tenantId), dueAt.getTime() - Date.now()));
        await this.purgeIfDue();
      })
      .catch((error: unknown) => this.probe.drainFailed("*", error instanceof Error ? error.message : String(error)))
      .finally(() => {
        if (this.running) this.pollTimer = setTimeout(() => this.poll(), this.options.pollIntervalMs);
      });
  }

  private async purgeIfDue(): Promise<void> {
    const hours = this.options.retentionHours ?? 0;
    if (hours <= 0 || Date.now() - this.lastPurgeAt < (this.options.purgeEveryMs ?? PURGE_EVERY_MS)) return;
    this.lastPurgeAt = Date.now();
    let purged = 0;
    for (let deleted = PURGE_BATCH; deleted === PURGE_BATCH && this.running; ) {
      deleted = await purgeProcessed(this.database.db, hours, PURGE_BATCH);
      purged += deleted;
    }
    if (purged > 0) this.probe.entriesPurged(purged, hours);
  }
}
