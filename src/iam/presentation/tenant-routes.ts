/**
 * /iam/tenants: the reference's endpoints 1-7 with DESIGN §3's decisions. Listing and creating
 * need credentials only; the rest also need a tenant context, as in the reference.
 */
import { Type } from "typebox";
import { HttpError } from "../../platform/http/http-error.js";
import type { HttpServer, RouteRegistrar } from "../../platform/http/http-server.js";
import { TENANT_MANAGEMENT_DISABLED, type TenantService } from "../application/tenant-service.js";
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

function tenantIdOf(raw: string, withValue: boolean): string {
  return ulidOr400(raw, withValue ? `Invalid tenant ID format: Invalid TenantId: ${raw}` : "Invalid tenant ID format");
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
          summary: "Add a member or change their role (tenant admins)",
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
        return reply.code(201).send({ user_id: member.userId, role: member.role });
      },
    );

    server.get(
      "/iam/tenants/:tenant_id/members",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Members of a tenant (tenant admins)",
          security: SECURITY,
          params: TenantIdParams,
          response: { 200: Type.Array(TenantMemberResponse), ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const id = tenantIdOf(request.params.tenant_id, false);
        const members = await answering(() => service.listMembers(callerOf(request), id, observationOf(request)));
        return members.map((m) => ({ user_id: m.userId, role: m.role }));
      },
    );

    server.delete(
      "/iam/tenants/:tenant_id/members/:user_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Remove a member with their roles and API keys in the tenant (tenant admins)",
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
