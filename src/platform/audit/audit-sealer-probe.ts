/** What the audit sealer reports, on the service's log. */
import type { Logger } from "../logging/logger.js";
import type { AuditSealerProbe } from "./audit-sealer.js";

export class LoggingAuditSealerProbe implements AuditSealerProbe {
  constructor(private readonly log: Logger) {}

  sealed(tenantId: string, count: number): void {
    this.log.debug({ tenant_id: tenantId, count }, "audit_events_sealed");
  }

  purged(count: number, olderThanDays: number): void {
    this.log.info({ count, older_than_days: olderThanDays }, "audit_events_purged");
  }

  failed(error: unknown): void {
    this.log.warn({ err: error }, "audit_sealing_failed");
  }
}
