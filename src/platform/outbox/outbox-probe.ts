import type { Logger } from "../logging/logger.js";

/** What the outbox machinery reports, in its own words. */
export interface OutboxProbe {
  entriesApplied(tenantId: string, count: number, durationMs: number): void;
  entryFailed(entryId: string, eventType: string, error: string, retryCount: number, retryInMs: number): void;
  entryDeadLettered(entryId: string, eventType: string, error: string): void;
  drainFailed(tenantId: string, error: string): void;
  entriesPurged(count: number, olderThanHours: number): void;
  workerStarted(mode: "notify" | "poll-only"): void;
  workerStopped(): void;
}

export class LoggingOutboxProbe implements OutboxProbe {
  private readonly log: Logger;

  constructor(logger: Logger) {
    this.log = logger.child({ component: "outbox" });
  }

  entriesApplied(tenantId: string, count: number, durationMs: number): void {
    this.log.debug({ tenant_id: tenantId, count, duration_ms: Math.round(durationMs * 100) / 100 }, "outbox_entries_applied");
  }

  entryFailed(entryId: string, eventType: string, error: string, retryCount: number, retryInMs: number): void {
    this.log.warn(
      { entry_id: entryId, event_type: eventType, error, retry_count: retryCount, retry_in_ms: retryInMs },
      "outbox_entry_failed",
    );
  }

  entryDeadLettered(entryId: string, eventType: string, error: string): void {
    this.log.error({ entry_id: entryId, event_type: eventType, error }, "outbox_entry_dead_lettered");
  }

  drainFailed(tenantId: string, error: string): void {
    this.log.warn({ tenant_id: tenantId, error }, "outbox_drain_failed");
  }

  entriesPurged(count: number, olderThanHours: number): void {
    this.log.info({ count, older_than_hours: olderThanHours }, "outbox_entries_purged");
  }

  workerStarted(mode: "notify" | "poll-only"): void {
    this.log.info({ mode }, "outbox_worker_started");
  }

  workerStopped(): void {
    this.log.info("outbox_worker_stopped");
  }
}
