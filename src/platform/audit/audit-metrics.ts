/**
 * The audit log in /metrics: events written (by this process's changes) and sealed (by its
 * sealer), and, read from the database at scrape time in one statement, how many events wait to
 * be sealed and for how long the oldest has waited (the sealing lag).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { Queryable } from "../database/database.js";
import type { AuditSealerProbe } from "./audit-sealer.js";
import { readSealingBacklog, type SealingBacklog } from "./audit-store.js";

export class AuditMetrics {
  private readonly written: Counter;
  private readonly sealed: Counter;
  /** The scrape's one backlog query, shared by the two gauges the registry collects at once. */
  private reading: Promise<SealingBacklog | null> | null = null;

  constructor(registry: Registry, db: Queryable) {
    const backlog = () => {
      this.reading ??= readSealingBacklog(db)
        // The database is away: no sample (unknown) rather than a failed scrape.
        .catch(() => null)
        .finally(() => {
          this.reading = null;
        });
      return this.reading;
    };
    const gauge = (name: string, help: string, value: (b: SealingBacklog) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const read = await backlog();
          this.reset();
          if (read !== null) this.set(value(read));
        },
      });
    gauge("kartograph_audit_unsealed_events", "Audit events committed but not yet sealed into their tenant's hash chain (all processes)", (b) => b.unsealed);
    gauge("kartograph_audit_sealing_lag_seconds", "How long the oldest unsealed audit event has waited (0 when none waits)", (b) => b.lagSeconds);
    this.written = new Counter({ name: "kartograph_audit_events_written_total", help: "Audit events this process's changes recorded", registers: [registry] });
    this.sealed = new Counter({ name: "kartograph_audit_events_sealed_total", help: "Audit events this process's sealer sealed", registers: [registry] });
  }

  eventsWritten(count: number): void {
    this.written.inc(count);
  }

  /** `inner`, with the sealed events counted on the way. */
  counting(inner: AuditSealerProbe): AuditSealerProbe {
    const sealed = this.sealed;
    return {
      sealed(tenantId, count) {
        sealed.inc(count);
        inner.sealed(tenantId, count);
      },
      purged: (count, days) => inner.purged(count, days),
      failed: (error) => inner.failed(error),
    };
  }
}
