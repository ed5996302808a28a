/**
 * /iam/workspaces: the reference's endpoints 8-16 with DESIGN §3's decisions (404 for what the
 * caller cannot view, 403 only when they can view but not act, 409 for every last-admin refusal).
 */
import { Type } from "typebox";
import type { HttpServer, RouteRegistrar } from "../../platform/http/http-server.js";
import type { WorkspaceService } from "../application/workspace-service.js";
import { answering } from "./error-mapping.js";
import { emailOnlyForUsers, requireOneOf } from "./member-body-rules.js";
import { callerOf } from "./request-context.js";
import { emailOf, nameOr422, ulidOr400, userIdOr400 } from "./request-fields.js";
import { SECURITY, errors, observationOf } from "./route-support.js";
import {
  AddWorkspaceMemberBody,
  ChangeWorkspaceMemberBody,
  CreateWorkspaceBody,
  MemberTypeQuery,
  RenameWorkspaceBody,
  WorkspaceIdParams,
  WorkspaceListResponse,
  WorkspaceMemberParams,
  WorkspaceMemberResponse,
  WorkspaceResponse,
  workspaceMemberResponse,
  workspaceResponse,
} from "./workspace-schemas.js";

const TAGS = ["workspaces"];
const INVALID_ID = "Invalid workspace ID format";
const memberIdOf = (raw: string) => userIdOr400(raw, "member_id cannot be empty");

export function workspaceRoutes(service: WorkspaceService): RouteRegistrar {
  return (server: HttpServer) => {
    server.post(
      "/iam/workspaces",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Create a child workspace; the caller becomes its admin",
          security: SECURITY,
          body: CreateWorkspaceBody,
          response: { 201: WorkspaceResponse, ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const name = nameOr422("Workspace", request.body.name);
        const parentWorkspaceId = ulidOr400(request.body.parent_workspace_id, "Invalid parent workspace ID format");
        const workspace = await answering(() => service.create(callerOf(request), { name, parentWorkspaceId }, observationOf(request)));
        return reply.code(201).send(workspaceResponse(workspace));
      },
    );

    server.get(
      "/iam/workspaces",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Workspaces of the tenant the caller can view",
          security: SECURITY,
          response: { 200: WorkspaceListResponse, ...errors(400, 401, 403, 503) },
        },
      },
      async (request) => {
        const workspaces = await answering(() => service.list(callerOf(request), observationOf(request)));
        return { workspaces: workspaces.map(workspaceResponse), count: workspaces.length };
      },
    );

    server.get(
      "/iam/workspaces/:workspace_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "One workspace (404 when missing or not viewable)",
          security: SECURITY,
          params: WorkspaceIdParams,
          response: { 200: WorkspaceResponse, ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        return workspaceResponse(await answering(() => service.get(callerOf(request), id, observationOf(request))));
      },
    );

    server.patch(
      "/iam/workspaces/:workspace_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Rename a workspace (needs manage)",
          security: SECURITY,
          params: WorkspaceIdParams,
          body: RenameWorkspaceBody,
          response: { 200: WorkspaceResponse, ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request) => {
        const name = nameOr422("Workspace", request.body.name);
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        const workspace = await answering(() => service.rename(callerOf(request), id, name, observationOf(request)));
        return workspaceResponse(workspace);
      },
    );

    server.delete(
      "/iam/workspaces/:workspace_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Delete a workspace that is neither the root nor a parent (needs manage)",
          security: SECURITY,
          params: WorkspaceIdParams,
          response: { 204: Type.Null({ description: "Deleted" }), ...errors(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        await answering(() => service.delete(callerOf(request), id, observationOf(request)));
        return reply.code(204).send(null);
      },
    );

    server.post(
      "/iam/workspaces/:workspace_id/members",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Give a user or group a role (replaces another role; same role is a no-op)",
          security: SECURITY,
          params: WorkspaceIdParams,
          body: AddWorkspaceMemberBody,
          response: { 201: WorkspaceMemberResponse, ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const email = emailOf(body.email);
        requireOneOf(body, "member_id", body.member_id, email);
        emailOnlyForUsers(body, body.member_type, email);
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        const memberId = body.member_id == null ? null : memberIdOf(body.member_id);
        const member = await answering(() =>
          service.addMember(
            callerOf(request),
            id,
            { memberId, email, memberType: body.member_type, role: body.role },
            observationOf(request),
          ),
        );
        return reply.code(201).send(workspaceMemberResponse(member));
      },
    );

    server.get(
      "/iam/workspaces/:workspace_id/members",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Direct members of a workspace (groups are not expanded)",
          security: SECURITY,
          params: WorkspaceIdParams,
          response: { 200: Type.Array(WorkspaceMemberResponse), ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        const members = await answering(() => service.listMembers(callerOf(request), id, observationOf(request)));
        return members.map(workspaceMemberResponse);
      },
    );

    server.patch(
      "/iam/workspaces/:workspace_id/members/:member_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Change a member's role",
          security: SECURITY,
          params: WorkspaceMemberParams,
          querystring: MemberTypeQuery,
          body: ChangeWorkspaceMemberBody,
          response: { 200: WorkspaceMemberResponse, ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request) => {
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        const memberId = memberIdOf(request.params.member_id);
        const member = await answering(() =>
          service.changeMemberRole(
            callerOf(request),
            id,
            { memberId, memberType: request.query.member_type },
            request.body.role,
            observationOf(request),
          ),
        );
        return workspaceMemberResponse(member);
      },
    );

    server.delete(
      "/iam/workspaces/:workspace_id/members/:member_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: TAGS,
          summary: "Remove a member (never the last admin)",
          security: SECURITY,
          params: WorkspaceMemberParams,
          querystring: MemberTypeQuery,
          response: { 204: Type.Null({ description: "Removed" }), ...errors(400, 401, 403, 404, 409, 422, 503) },
        },
      },
      async (request, reply) => {
        const id = ulidOr400(request.params.workspace_id, INVALID_ID);
        const memberId = memberIdOf(request.params.member_id);
        await answering(() =>
          service.removeMember(callerOf(request), id, { memberId, memberType: request.query.member_type }, observationOf(request)),
        );
        return reply.code(204).send(null);
      },
    );
  };
}
