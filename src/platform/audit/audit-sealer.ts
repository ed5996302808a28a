/**
 * Seals audit events in the background, after their commit, so that writers never wait for each
 * other on a chain: polled (and woken in process after a commit), tenant by tenant under a
 * per-tenant lock, several tenants at a time and several processes alike. A crash between a
 * commit and its sealing loses nothing: unsealed events are sealed on the next run, in order. The
 * same loop deletes events past their retention, in batches, from each chain's old end.
 */
import type { AppDatabase } from "../database/database.js";
import { purgeAuditEvents, sealTenant, tenantsWithUnsealedEvents } from "./audit-store.js";

export interface AuditSealerProbe {
  sealed(tenantId: string, count: number): void;
  purged(count: number, olderThanDays: number): void;
  failed(error: unknown): void;
}

export interface AuditSealerOptions {
  readonly intervalMs?: number;
  /** Events older than this many days are deleted; 0 keeps them forever. */
  readonly retentionDays: number;
  readonly purgeEveryMs?: number;
  /** How long a wake-up waits to gather more commits into the same run (default GATHER_MS). */
  readonly gatherMs?: number;
}

const SEAL_BATCH = 2_000;
const PURGE_BATCH = 5_000;
const TENANTS_PER_RUN = 1_000;
const DEFAULT_INTERVAL_MS = 1_000;
const GATHER_MS = 250;
const PURGE_EVERY_MS = 10 * 60_000;

export class AuditSealer {
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private again = false;
  /** Whether the pending timer is a wake-up's short gathering delay (not the idle poll). */
  private timerIsGather = false;
  private lastPurgeAt = 0;
  private sealedTotal = 0;

  constructor(
    private readonly db: AppDatabase,
    private readonly probe: AuditSealerProbe,
    private readonly options: AuditSealerOptions,
  ) {}

  /** Events sealed by this process since it started (for /metrics). */
  get sealedCount(): number {
    return this.sealedTotal;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.run(); // what a crash left unsealed, at once
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  /**
   * Runs soon: after a short delay that gathers the commits of a busy moment into one sealing
   * transaction (on the embedded database, which has one connection, a seal per commit would
   * halve the write rate). A run in progress is followed by another, so nothing waits long.
   */
  wake(): void {
    if (!this.running) return;
    if (this.current !== null) {
      this.again = true;
      return;
    }
    if (this.timer !== null && this.timerIsGather) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerIsGather = true;
    this.timer = setTimeout(() => this.run(), this.options.gatherMs ?? GATHER_MS);
  }

  private run(): void {
    this.timer = null;
    this.timerIsGather = false;
    this.current = this.runOnce()
      .then(() => undefined)
      .catch((error: unknown) => this.probe.failed(error))
      .finally(() => {
        this.current = null;
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.run(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
        }
      });
  }

  /** Seals everything unsealed now (and purges when due); returns how many were sealed. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (const tenantId of await tenantsWithUnsealedEvents(this.db, TENANTS_PER_RUN)) {
      let sealed = 0;
      let after = 0;
      for (let batch = SEAL_BATCH; batch === SEAL_BATCH; ) {
        const result = await sealTenant(this.db, tenantId, SEAL_BATCH, after);
        batch = result.sealed;
        after = result.lastSequence;
        sealed += batch;
      }
      if (sealed > 0) this.probe.sealed(tenantId, sealed);
      total += sealed;
    }
    this.sealedTotal += total;
    await this.purgeIfDue();
    return total;
  }

  private async purgeIfDue(): Promise<void> {
    const days = this.options.retentionDays;
    if (days <= 0 || Date.now() - this.lastPurgeAt < (this.options.purgeEveryMs ?? PURGE_EVERY_MS)) return;
    this.lastPurgeAt = Date.now();
    let purged = 0;
    let deleted: number;
    do {
      deleted = await purgeAuditEvents(this.db, days, PURGE_BATCH);
      purged += deleted;
    } while (deleted > 0 && this.running);
    if (purged > 0) this.probe.purged(purged, days);
  }
}
