/**
 * `GET /iam/audit-events`: the current tenant's audit log for its admins, newest first, with
 * filters and an opaque cursor (keyset pagination: a page deep in the log costs what the first
 * costs). Malformed filters are 422 in the list shape, naming the parameter.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { STORABLE_YEARS, isStorableTime } from "../../platform/database/storable-time.js";
import { validationError, type ValidationIssue } from "../../platform/http/http-error.js";
import type { AuditLogService } from "../application/audit-log-service.js";
import { EXAMPLE } from "./examples.js";
import { callerOf } from "./request-context.js";
import { USER_ID_MAX_LENGTH } from "./request-fields.js";
import { answer, errors, tenantScoped } from "./route-contract.js";

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1_000;
const CURSOR_PREFIX = "a1.";
/** ISO-8601 with a time and a zone (Z or ±hh:mm): a bare date or local time would be ambiguous. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

const Actor = Type.Object({
  type: Type.Union([Type.Literal("user"), Type.Literal("api_key"), Type.Literal("system")]),
  id: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Optional(Type.String({ description: "An API key's creator, for whom it acts" })),
});
const AuditEventResponse = Type.Object({
  id: Type.String({ description: "ULID" }),
  occurred_at: Type.String({ description: "UTC, ISO-8601" }),
  tenant_id: Type.String(),
  action: Type.String({ description: "Dotted and stable, e.g. workspace.member_added (README: Audit log)" }),
  actor: Actor,
  target: Type.Object({ type: Type.String(), id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  changes: Type.Record(Type.String(), Type.Unknown()),
  context: Type.Object({
    request_id: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
  }),
  sequence: Type.Union([Type.Integer(), Type.Null()], { description: "Position in the tenant's hash chain; null until sealed (within a second)" }),
});
const AuditPage = Type.Object(
  { events: Type.Array(AuditEventResponse), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  {
    examples: [
      {
        events: [
          {
            id: "01JZ8QA1B2C3D4E5F6G7H8J9K0",
            occurred_at: EXAMPLE.createdAt,
            tenant_id: EXAMPLE.tenantId,
            action: "workspace.member_added",
            actor: { type: "user", id: EXAMPLE.userId, username: "alice" },
            target: { type: "workspace", id: EXAMPLE.workspaceId, name: "Research" },
            changes: { member: { type: "user", id: EXAMPLE.otherUserId }, role: { before: null, after: "editor" } },
            context: { request_id: "5b3e0c1e-8f0a-4d2b-9c51-0d7a4f3e2b19", ip: "203.0.113.7", user_agent: "curl/8.5.0" },
            sequence: 42,
          },
        ],
        next_cursor: "a1.NDI",
      },
    ],
  },
);

const AuditQuery = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 64, description: "Exact action, or a prefix ending with a dot (workspace.)" })),
  actor_id: Type.Optional(Type.String({ maxLength: USER_ID_MAX_LENGTH, description: "User or API key id" })),
  target_id: Type.Optional(Type.String({ maxLength: USER_ID_MAX_LENGTH, description: "Id of the tenant, workspace, group or API key that changed" })),
  since: Type.Optional(Type.String({ maxLength: 40, description: "ISO-8601 date and time with a zone; events at or after it" })),
  until: Type.Optional(Type.String({ maxLength: 40, description: "ISO-8601 date and time with a zone; events before it" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE_MAX, description: `Page size, default ${AUDIT_PAGE_DEFAULT}` })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: "next_cursor of the previous page" })),
});

function encodeCursor(position: number): string {
  return CURSOR_PREFIX + Buffer.from(String(position)).toString("base64url");
}

/** The position a cursor names, or null for anything this API did not give out. */
function decodeCursor(cursor: string): number | null {
  if (!cursor.startsWith(CURSOR_PREFIX)) return null;
  const text = Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url").toString();
  return /^[1-9]\d{0,15}$/.test(text) && encodeCursor(Number(text)) === cursor ? Number(text) : null;
}

function dateOf(name: string, value: string | undefined, issues: ValidationIssue[]): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = ISO_DATE_TIME.test(value) ? new Date(value) : null;
  if (parsed !== null && isStorableTime(parsed)) return parsed;
  // A valid time in another year is refused here too: the database cannot compare with it.
  const msg =
    parsed !== null && !Number.isNaN(parsed.getTime())
      ? `Input should be a date and time in ${STORABLE_YEARS}`
      : "Input should be an ISO-8601 date and time with a zone, such as 2026-12-01T00:00:00Z";
  issues.push({ type: "datetime_parsing", loc: ["query", name], msg, input: value });
  return undefined;
}

export const auditRoutes: FastifyPluginAsyncTypebox<{ service: AuditLogService }> = async (server, { service }) => {
  server.get(
    "/iam/audit-events",
    tenantScoped({
      operationId: "listAuditEvents",
      tags: ["audit"],
      summary: "The current tenant's audit log, newest first (tenant admins)",
      description:
        "Every change to the tenant's IAM state, one event per change, recorded in the change's own transaction. Filters combine; `next_cursor` fetches the next (older) page and is null on the last one.",
      querystring: AuditQuery,
      response: { 200: answer(AuditPage, "A page of audit events"), ...errors(403, 404, 422) },
    }),
    async (request) => {
      const query = request.query;
      const issues: ValidationIssue[] = [];
      const since = dateOf("since", query.since, issues);
      const until = dateOf("until", query.until, issues);
      const before = query.cursor === undefined || query.cursor === "" ? undefined : decodeCursor(query.cursor);
      if (before === null) {
        issues.push({ type: "value_error", loc: ["query", "cursor"], msg: "Value error, not a cursor this API gave out", input: query.cursor });
      }
      if (issues.length > 0) throw validationError(issues);
      const { entries, more } = await service.list(callerOf(request), {
        limit: query.limit ?? AUDIT_PAGE_DEFAULT,
        ...(query.action ? { action: query.action } : {}),
        ...(query.actor_id ? { actorId: query.actor_id } : {}),
        ...(query.target_id ? { targetId: query.target_id } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(before ? { before } : {}),
      });
      const last = entries[entries.length - 1];
      return { events: entries.map((entry) => entry.body), next_cursor: more && last !== undefined ? encodeCursor(last.listPosition) : null };
    },
  );
};
