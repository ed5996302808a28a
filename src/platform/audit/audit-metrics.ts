/**
 * The audit log in /metrics: events written (by this process's changes) and sealed (by its
 * sealer), and, read from the database at scrape time in one statement, how many events wait to
 * be sealed and for how long the oldest has waited (the sealing lag).
 */
import { Counter, type Registry } from "prom-client";
import type { Queryable } from "../database/database.js";
import { registerScrapeReadGauges } from "../metrics/scrape-read-gauges.js";
import type { AuditSealerProbe } from "./audit-sealer.js";
import { readSealingBacklog, type SealingBacklog } from "./audit-store.js";

export class AuditMetrics {
  private readonly written: Counter;
  private readonly sealed: Counter;

  constructor(registry: Registry, db: Queryable) {
    registerScrapeReadGauges<SealingBacklog>(registry, () => readSealingBacklog(db), [
      { name: "kartograph_audit_unsealed_events", help: "Audit events committed but not yet sealed into their tenant's hash chain (all processes)", value: (b) => b.unsealed },
      { name: "kartograph_audit_sealing_lag_seconds", help: "How long the oldest unsealed audit event has waited (0 when none waits)", value: (b) => b.lagSeconds },
    ]);
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
