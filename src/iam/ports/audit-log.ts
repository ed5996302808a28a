/** What the audit log's query API needs from storage. */

export interface AuditLogQuery {
  readonly tenantId: string;
  /** Exact, or a prefix when it ends with a dot (`workspace.`). */
  readonly action?: string;
  readonly actorId?: string;
  readonly targetId?: string;
  readonly since?: Date;
  readonly until?: Date;
  /** Only events older than this position in the listing (from a cursor). */
  readonly before?: number;
  readonly limit: number;
}

/** One audit event as the API and the export answer it (snake_case JSON). */
export interface AuditEventView {
  readonly id: string;
  readonly occurred_at: string;
  readonly tenant_id: string;
  readonly action: string;
  readonly actor: { readonly type: "user" | "api_key" | "system"; readonly id: string | null; readonly username: string | null; readonly user_id?: string };
  readonly target: { readonly type: string; readonly id: string; readonly name: string | null };
  readonly changes: Readonly<Record<string, unknown>>;
  readonly context: { readonly request_id: string | null; readonly ip: string | null; readonly user_agent: string | null };
  /** Position in the tenant's hash chain; null until sealed. */
  readonly sequence: number | null;
}

/** An event and its place in the listing (what a cursor names). */
export interface AuditLogEntry {
  readonly listPosition: number;
  readonly body: AuditEventView;
}

export interface AuditLogReader {
  /** Newest first; `more` says whether older events match too. */
  list(query: AuditLogQuery): Promise<{ entries: AuditLogEntry[]; more: boolean }>;
}
