/** The audit log's query port over the audit store. */
import { auditEventBody } from "../../platform/audit/audit-event.js";
import { listAuditEvents } from "../../platform/audit/audit-store.js";
import type { Queryable } from "../../platform/database/database.js";
import type { AuditLogQuery, AuditLogReader } from "../ports/audit-log.js";

export class DrizzleAuditLog implements AuditLogReader {
  constructor(private readonly db: Queryable) {}

  async list(query: AuditLogQuery) {
    const { before, ...rest } = query;
    const { events, more } = await listAuditEvents(this.db, before === undefined ? rest : { ...rest, beforeSequence: before });
    return { entries: events.map((event) => ({ listPosition: event.sequence, body: auditEventBody(event) })), more };
  }
}
