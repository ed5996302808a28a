/**
 * The audit log's query API: tenant admins read their tenant's events, newest first, a page at a
 * time. Only the caller's tenant is ever read, whatever the filters say.
 */
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import type { AuditLogEntry, AuditLogQuery, AuditLogReader } from "../ports/audit-log.js";
import { accessTo } from "./access-check.js";
import type { Caller } from "./caller.js";

export const AUDIT_LOG_FORBIDDEN = "Only tenant admins can read the audit log";

export class AuditLogService {
  constructor(
    private readonly deps: {
      readonly log: AuditLogReader;
      readonly authorization: AuthorizationPort;
    },
  ) {}

  async list(caller: Caller, query: Omit<AuditLogQuery, "tenantId">): Promise<{ entries: AuditLogEntry[]; more: boolean }> {
    const outcome = await accessTo(this.deps.authorization, { type: "tenant", id: caller.tenantId }, caller, "administrate");
    if (outcome === "hidden") throw new NotFoundError(`Tenant ${caller.tenantId} not found`);
    if (outcome === "forbidden") throw new ForbiddenError(AUDIT_LOG_FORBIDDEN);
    return this.deps.log.list({ ...query, tenantId: caller.tenantId });
  }
}
