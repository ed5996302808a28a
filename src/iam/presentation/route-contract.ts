/**
 * What every IAM route shares on the wire, declared once: who may call it (the `config.auth` the
 * authentication hook reads), the security schemes and the `X-Tenant-ID` header that go with that,
 * and the error answers, each documented with its own description and example. A route says
 * which statuses its own logic can answer; the statuses of the authentication preamble (contract
 * §1.1 steps 2-4, and the failure limit and outages around them) are added here, so a route cannot
 * forget them:
 *
 *   server.get("/iam/workspaces", tenantScoped({ operationId: "listWorkspaces", ..., response: { 200: List, ...errors(404) } }), handler);
 */
import { Type, type TSchema } from "typebox";
import type { AuthRequirement } from "./request-context.js";

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503;

const ERROR_DOCS: Record<ErrorStatus, { readonly description: string; readonly example: unknown }> = {
  400: {
    description: "Bad request: a malformed id in the path, or a missing or malformed X-Tenant-ID header, or a rule the request breaks",
    example: "Invalid workspace ID format",
  },
  401: {
    description: "Not authenticated: no credentials, or an invalid or expired token or API key (WWW-Authenticate names the schemes)",
    example: "Not authenticated",
  },
  403: {
    description:
      "Forbidden: the caller can view the resource but may not do this, or is not a member of the tenant X-Tenant-ID names",
    example: "You do not have access to this tenant",
  },
  404: { description: "Not found, or not visible to the caller (the two answers are the same)", example: "Workspace 01JZ8Q6V3C4M8N2P5R7T9W1X3Y not found" },
  409: {
    description:
      "Conflict: a duplicate name, the last admin, a resource in use; or, at a first sign-in, a username another account holds",
    example: "Cannot remove the last admin from the workspace",
  },
  422: {
    description: "Validation error: FastAPI's list (`detail: [{type, loc, msg, input}]`), or a message",
    example: [{ type: "missing", loc: ["body", "name"], msg: "Field required", input: {} }],
  },
  429: {
    description: "Too many failed authentications from this client; Retry-After says when to try again",
    example: "Too many failed authentication attempts; retry in 60 seconds",
  },
  503: {
    description: "A backing service (database, SpiceDB, identity provider) is unavailable; Retry-After says when to retry",
    example: "Service temporarily unavailable; please retry shortly",
  },
};

function errorBody(status: ErrorStatus) {
  const { description, example } = ERROR_DOCS[status];
  return Type.Object(
    { detail: Type.Unknown({ description: "A message, or FastAPI's list of validation issues (422)" }) },
    { description, examples: [{ detail: example }] },
  );
}

const ERROR_BODIES = Object.fromEntries(
  (Object.keys(ERROR_DOCS) as unknown as ErrorStatus[]).map((status) => [status, errorBody(status)]),
) as Record<ErrorStatus, ReturnType<typeof errorBody>>;

/** The error answers a route's own checks can give, for its `response` schema. */
export function errors(...statuses: ErrorStatus[]): Record<number, ReturnType<typeof errorBody>> {
  return Object.fromEntries(statuses.map((status) => [status, ERROR_BODIES[status]]));
}

/** Either scheme authenticates every IAM route. */
export const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/** Validated only as a string: the authentication hook parses it (before validation, as the reference does). */
export const TenantHeader = Type.Object({
  "x-tenant-id": Type.Optional(
    Type.String({
      description:
        "The tenant (ULID, any case) a bearer token acts in; required in multi-tenant mode. Ignored with an API key, which acts in its own tenant.",
    }),
  ),
});

/**
 * Statuses any authenticated route can answer before its handler runs: a bad claim (400), no or
 * bad credentials (401), a username clash at the first sign-in (409), the failed-authentication
 * limit (429), an outage (503). With a tenant context also a bad or missing header (400) and a
 * tenant the caller does not belong to (403).
 */
const PREAMBLE: Record<AuthRequirement, ErrorStatus[]> = {
  authenticated: [400, 401, 409, 429, 503],
  tenant: [400, 401, 403, 409, 429, 503],
  // Outside the tenant is an answer, not a 403.
  "current-tenant": [400, 401, 409, 429, 503],
};

/** What a route declares about itself; `response` holds its success answer and its own errors. */
export interface RouteSchema {
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description: string;
  readonly response: Record<number, TSchema>;
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly body?: TSchema;
}

function withPreamble<S extends RouteSchema>(auth: AuthRequirement, schema: S) {
  // A value the schema refuses (e.g. an over-long path id) is a 422 in FastAPI's list shape.
  const validated = schema.params !== undefined || schema.querystring !== undefined || schema.body !== undefined;
  const preamble = validated ? [...PREAMBLE[auth], 422 as const] : PREAMBLE[auth];
  // The route's own documentation of a status wins over the preamble's.
  return { ...errors(...preamble), ...schema.response } as S["response"];
}

/** A route that needs credentials and a tenant context (contract "T"). */
export function tenantScoped<S extends RouteSchema>(schema: S) {
  return {
    config: { auth: "tenant" as const },
    schema: { ...schema, security: SECURITY, headers: TenantHeader, response: withPreamble("tenant", schema) },
  };
}

/**
 * A route that needs credentials and reads the tenant context when there is one, without
 * refusing a caller outside it (`request.currentTenantId`; see request-context.ts).
 */
export function currentTenantAware<S extends RouteSchema>(schema: S) {
  return {
    config: { auth: "current-tenant" as const },
    schema: { ...schema, security: SECURITY, headers: TenantHeader, response: withPreamble("current-tenant", schema) },
  };
}

/** A route that needs credentials only; X-Tenant-ID is ignored (contract "A"). */
export function authenticatedOnly<S extends RouteSchema>(schema: S) {
  return {
    config: { auth: "authenticated" as const },
    schema: { ...schema, security: SECURITY, response: withPreamble("authenticated", schema) },
  };
}

/** A success answer's schema under its own description, which names the OpenAPI response. */
export function answer<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

/** 204: no body. */
export function noContent(description: string) {
  return Type.Null({ description });
}
