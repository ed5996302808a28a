/**
 * /iam/tenants: the reference's endpoints 1-7 with DESIGN §3's decisions. Listing and creating
 * need credentials only; the rest also need a tenant context, as in the reference.
 */
import { Type } from "typebox";
import { HttpError } from "../../platform/http/http-error.js";
import type { HttpServer, RouteRegistrar } from "../../platform/http/http-server.js";
import { TENANT_MANAGEMENT_DISABLED, type TenantMemberEntry, type TenantService } from "../application/tenant-service.js";
import { answering } from "./error-mapping.js";
import { requireOneOf } from "./member-body-rules.js";
import { authenticatedUserOf, callerOf } from "./request-context.js";
import { emailOf, nameOr422, ulidOr400, userIdOr400 } from "./request-fields.js";
import { SECURITY, errors, observationOf } from "./route-support.js";
import {
  AddTenantMemberBody,
  CreateTenantBody,
  TenantIdParams,
  TenantMemberParams,
  TenantMemberResponse,
  TenantResponse,
} from "./tenant-schemas.js";

const TAGS = ["tenants"];
const KEY_SCOPE = "With an API key, only the key's own tenant exists: any other tenant id is 404.";

function tenantIdOf(raw: string, withValue: boolean): string {
  return ulidOr400(raw, withValue ? `Invalid tenant ID format: Invalid TenantId: ${raw}` : "Invalid tenant ID format");
}

function tenantMemberResponse(entry: TenantMemberEntry) {
  const answer = { user_id: entry.userId, role: entry.role, status: entry.status };
  return entry.status === "pending" ? { ...answer, email: entry.email } : answer;
}

export function tenantRoutes(service: TenantService, options: { singleTenantMode: boolean }): RouteRegistrar {
  /** Tenant creation and deletion are refused in single-tenant mode, before the body is validated. */
  const multiTenantOnly = async () => {
    if (options.singleTenantMode) throw new HttpError(403, TENANT_MANAGEMENT_DISABLED);
  };

  return (server: HttpServer) => {
    server.post(
      "/iam/tenants",
      {
        config: { auth: "authenticated" },
        preValidation: multiTenantOnly,
        schema: {
          tags: TAGS,
          summary: "Create a tenant; the caller administers it and its root workspace",
          description:
            "Tenant names are unique per creator: 409 only when you already created a tenant of that name " +
            "(nothing is said about other people's tenants). API keys cannot create tenants (403).",
          security: SECURITY,
          body: CreateTenantBody,
          response: { 201: TenantResponse, ...errors(401, 403, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const name = nameOr422("Tenant", request.body.name);
        const tenant = await answering(() => service.create(authenticatedUserOf(request), name, observationOf(request)));
        return reply.code(201).send(tenant);
      },
    );

    server.get(
      "/iam/tenants",
      {
        config: { auth: "authenticated" },
        schema: {
          tags: TAGS,
          summary: "Tenants the caller belongs to",
          description: "With an API key: only the key's own tenant.",
          security: SECURITY,
          response: { 200: Type.Array(TenantResponse), ...errors(401, 503) },
        },
      },
      async (request) => answering(() => service.list(authenticatedUserOf(request), observationOf(request))),
    );

    server.get(
      "/iam/tenants/:tenant_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "One tenant (404 when missing or not viewable)",
          description: KEY_SCOPE,
          security: SECURITY,
          params: TenantIdParams,
          response: { 200: TenantResponse, ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const id = tenantIdOf(request.params.tenant_id, true);
        return answering(() => service.get(callerOf(request), id, observationOf(request)));
      },
    );

    server.delete(
      "/iam/tenants/:tenant_id",
      {
        config: { auth: "tenant" },
        preValidation: multiTenantOnly,
        schema: {
          tags: TAGS,
          summary: "Delete a tenant with its workspaces, groups and API keys (tenant admins)",
          description: `${KEY_SCOPE} API keys cannot delete tenants (403).`,
          security: SECURITY,
          params: TenantIdParams,
          response: { 204: Type.Null({ description: "Deleted" }), ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request, reply) => {
        const id = tenantIdOf(request.params.tenant_id, true);
        await answering(() => service.delete(callerOf(request), id, observationOf(request)));
        return reply.code(204).send(null);
      },
    );

    server.post(
      "/iam/tenants/:tenant_id/members",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Add a member or change their role, or invite by email (tenant admins)",
          description:
            "By `user_id`: the user (who has signed in once) joins with the role, or gets it. By `email`: a member " +
            "of this tenant with that email gets the role; for anyone else an invitation is recorded (`status: " +
            '"pending"`, `user_id: "invitation:<email>"`), answered the same whether or not the email belongs ' +
            "to an account. It binds, with its role, the first time a token with that `email` (any case) and " +
            "`email_verified: true` signs in. " +
            KEY_SCOPE,
          security: SECURITY,
          params: TenantIdParams,
          body: AddTenantMemberBody,
          response: { 201: TenantMemberResponse, ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const email = emailOf(body.email);
        requireOneOf(body, "user_id", body.user_id, email);
        const id = tenantIdOf(request.params.tenant_id, false);
        const userId = body.user_id == null ? null : userIdOr400(body.user_id);
        const member = await answering(() =>
          service.addMember(callerOf(request), id, { userId, email, role: body.role }, observationOf(request)),
        );
        return reply.code(201).send(tenantMemberResponse(member));
      },
    );

    server.get(
      "/iam/tenants/:tenant_id/members",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Members of a tenant and pending invitations (tenant admins)",
          description: `Members (\`status: "active"\`) by user id, then invitations (\`"pending"\`) by email. ${KEY_SCOPE}`,
          security: SECURITY,
          params: TenantIdParams,
          response: { 200: Type.Array(TenantMemberResponse), ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const id = tenantIdOf(request.params.tenant_id, false);
        const members = await answering(() => service.listMembers(callerOf(request), id, observationOf(request)));
        return members.map(tenantMemberResponse);
      },
    );

    server.delete(
      "/iam/tenants/:tenant_id/members/:user_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Remove a member with their roles and API keys in the tenant, or revoke an invitation (tenant admins)",
          description:
            "`invitation:<email>` as the user id revokes that invitation (a member whose user id is exactly that " +
            `string is removed instead). ${KEY_SCOPE}`,
          security: SECURITY,
          params: TenantMemberParams,
          response: { 204: Type.Null({ description: "Removed" }), ...errors(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        const id = tenantIdOf(request.params.tenant_id, false);
        const userId = userIdOr400(request.params.user_id);
        await answering(() => service.removeMember(callerOf(request), id, userId, observationOf(request)));
        return reply.code(204).send(null);
      },
    );
  };
}
