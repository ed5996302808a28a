/**
 * /iam/tenants: the reference's endpoints 1-7 with DESIGN §3's decisions. Listing and creating
 * need credentials only; the rest also need a tenant context, as in the reference.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError } from "../../platform/http/http-error.js";
import { TENANT_MANAGEMENT_DISABLED, type TenantMemberEntry, type TenantService } from "../application/tenant-service.js";
import { requireOneOf } from "./member-body-rules.js";
import { authenticatedUserOf, callerOf, observationOf } from "./request-context.js";
import { emailOf, nameOr422, ulidOr400, userIdOr400 } from "./request-fields.js";
import { answer, authenticatedOnly, errors, noContent, tenantScoped } from "./route-contract.js";
import {
  AddTenantMemberBody,
  CreateTenantBody,
  TenantIdParams,
  TenantListResponse,
  TenantMemberListResponse,
  TenantMemberParams,
  TenantMemberResponse,
  TenantResponse,
} from "./tenant-schemas.js";

const tags = ["tenants"];
const KEY_SCOPE = "With an API key, only the key's own tenant exists: any other tenant id is 404.";
const SINGLE_TENANT = "Refused (403) in single-tenant mode and with an API key.";

function tenantIdOf(raw: string, withValue: boolean): string {
  return ulidOr400(raw, withValue ? `Invalid tenant ID format: Invalid TenantId: ${raw}` : "Invalid tenant ID format");
}

function tenantMemberResponse(entry: TenantMemberEntry) {
  const member = { user_id: entry.userId, role: entry.role, status: entry.status };
  return entry.status === "pending" ? { ...member, email: entry.email } : member;
}

export const tenantRoutes: FastifyPluginAsyncTypebox<{ service: TenantService; singleTenantMode: boolean }> = async (
  server,
  { service, singleTenantMode },
) => {
  /** Tenant creation and deletion are refused in single-tenant mode, before the body is validated. */
  const multiTenantOnly = async () => {
    if (singleTenantMode) throw new HttpError(403, TENANT_MANAGEMENT_DISABLED);
  };

  server.post(
    "/iam/tenants",
    {
      ...authenticatedOnly({
        operationId: "createTenant",
        tags,
        summary: "Create a tenant; the caller administers it and its root workspace",
        description:
          "Tenant names are unique per creator: 409 only when you already created a tenant of that name " +
          `(nothing is said about other people's tenants). ${SINGLE_TENANT}`,
        body: CreateTenantBody,
        response: { 201: answer(TenantResponse, "Created"), ...errors(403, 409, 422) },
      }),
      preValidation: multiTenantOnly,
    },
    async (request, reply) => {
      const name = nameOr422("Tenant", request.body.name);
      const tenant = await service.create(authenticatedUserOf(request), name, observationOf(request));
      return reply.code(201).send(tenant);
    },
  );

  server.get(
    "/iam/tenants",
    authenticatedOnly({
      operationId: "listTenants",
      tags,
      summary: "Tenants the caller belongs to",
      description: "With an API key: only the key's own tenant. X-Tenant-ID is not needed (and not read).",
      response: { 200: TenantListResponse },
    }),
    async (request) => service.list(authenticatedUserOf(request), observationOf(request)),
  );

  server.get(
    "/iam/tenants/:tenant_id",
    tenantScoped({
      operationId: "getTenant",
      tags,
      summary: "One tenant",
      description: `404 when it does not exist or the caller cannot view it. ${KEY_SCOPE}`,
      params: TenantIdParams,
      response: { 200: TenantResponse, ...errors(404) },
    }),
    async (request) => {
      const id = tenantIdOf(request.params.tenant_id, true);
      return service.get(callerOf(request), id, observationOf(request));
    },
  );

  server.delete(
    "/iam/tenants/:tenant_id",
    {
      ...tenantScoped({
        operationId: "deleteTenant",
        tags,
        summary: "Delete a tenant with its workspaces, groups and API keys",
        description: `Tenant admins only. ${SINGLE_TENANT} ${KEY_SCOPE}`,
        params: TenantIdParams,
        response: { 204: noContent("Deleted"), ...errors(404) },
      }),
      preValidation: multiTenantOnly,
    },
    async (request, reply) => {
      const id = tenantIdOf(request.params.tenant_id, true);
      await service.delete(callerOf(request), id, observationOf(request));
      return reply.code(204).send(null);
    },
  );

  server.post(
    "/iam/tenants/:tenant_id/members",
    tenantScoped({
      operationId: "addTenantMember",
      tags,
      summary: "Add a member or change their role, or invite by email",
      description:
        "Tenant admins only. By `user_id`: the user (who has signed in once) joins with the role, or gets it. By `email`: a member " +
        "of this tenant with that email gets the role; for anyone else an invitation is recorded (`status: " +
        '"pending"`, `user_id: "invitation:<email>"`), answered the same whether or not the email belongs ' +
        "to an account. It binds, with its role, the first time a token with that `email` (any case) and " +
        "`email_verified: true` signs in. Demoting the last admin is 409. " +
        KEY_SCOPE,
      params: TenantIdParams,
      body: AddTenantMemberBody,
      response: { 201: answer(TenantMemberResponse, "The member with the role, or the invitation"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const body = request.body;
      const email = emailOf(body.email);
      requireOneOf(body, "user_id", body.user_id, email);
      const id = tenantIdOf(request.params.tenant_id, false);
      const userId = body.user_id == null ? null : userIdOr400(body.user_id);
      const member = await service.addMember(callerOf(request), id, { userId, email, role: body.role }, observationOf(request));
      return reply.code(201).send(tenantMemberResponse(member));
    },
  );

  server.get(
    "/iam/tenants/:tenant_id/members",
    tenantScoped({
      operationId: "listTenantMembers",
      tags,
      summary: "Members of a tenant and pending invitations",
      description: `Tenant admins only. Members (\`status: "active"\`) by user id, then invitations (\`"pending"\`) by email. ${KEY_SCOPE}`,
      params: TenantIdParams,
      response: { 200: TenantMemberListResponse, ...errors(404) },
    }),
    async (request) => {
      const id = tenantIdOf(request.params.tenant_id, false);
      const members = await service.listMembers(callerOf(request), id, observationOf(request));
      return members.map(tenantMemberResponse);
    },
  );

  server.delete(
    "/iam/tenants/:tenant_id/members/:user_id",
    tenantScoped({
      operationId: "removeTenantMember",
      tags,
      summary: "Remove a member with their roles and API keys in the tenant, or revoke an invitation",
      description:
        "Tenant admins only. `invitation:<email>` as the user id revokes that invitation (a member whose user id is exactly that " +
        "string is removed instead). 409 for the last admin of the tenant, or of a workspace or group in it. " +
        KEY_SCOPE,
      params: TenantMemberParams,
      response: { 204: noContent("Removed"), ...errors(404, 409) },
    }),
    async (request, reply) => {
      const id = tenantIdOf(request.params.tenant_id, false);
      const userId = userIdOr400(request.params.user_id);
      await service.removeMember(callerOf(request), id, userId, observationOf(request));
      return reply.code(204).send(null);
    },
  );
};
