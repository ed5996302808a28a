/**
 * /iam/workspaces: the reference's endpoints 8-16 with DESIGN §3's decisions (404 for what the
 * caller cannot view, 403 only when they can view but not act, 409 for every last-admin refusal).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { WorkspaceService } from "../application/workspace-service.js";
import { emailOnlyForUsers, requireOneOf } from "./member-body-rules.js";
import { callerOf, observationOf } from "./request-context.js";
import { emailOf, memberIdOr400, nameOr422, ulidOr400 } from "./request-fields.js";
import { answer, errors, noContent, tenantScoped } from "./route-contract.js";
import {
  AddWorkspaceMemberBody,
  ChangeWorkspaceMemberBody,
  CreateWorkspaceBody,
  MemberTypeQuery,
  RenameWorkspaceBody,
  WorkspaceIdParams,
  WorkspaceListResponse,
  WorkspaceMemberListResponse,
  WorkspaceMemberParams,
  WorkspaceMemberResponse,
  WorkspaceResponse,
  workspaceMemberResponse,
  workspaceResponse,
} from "./workspace-schemas.js";

const tags = ["workspaces"];
const workspaceIdOf = (raw: string) => ulidOr400(raw, "Invalid workspace ID format");
const MANAGE = "Needs `manage` on the workspace (its admins, and admins of the workspaces above it).";

export const workspaceRoutes: FastifyPluginAsyncTypebox<{ service: WorkspaceService }> = async (server, { service }) => {
  server.post(
    "/iam/workspaces",
    tenantScoped({
      operationId: "createWorkspace",
      tags,
      summary: "Create a child workspace; the caller becomes its admin",
      description: "Needs `edit` on the parent workspace. Names are unique among the parent's children (409).",
      body: CreateWorkspaceBody,
      response: { 201: answer(WorkspaceResponse, "Created"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const name = nameOr422("Workspace", request.body.name);
      const parentWorkspaceId = ulidOr400(request.body.parent_workspace_id, "Invalid parent workspace ID format");
      const workspace = await service.create(callerOf(request), { name, parentWorkspaceId }, observationOf(request));
      return reply.code(201).send(workspaceResponse(workspace));
    },
  );

  server.get(
    "/iam/workspaces",
    tenantScoped({
      operationId: "listWorkspaces",
      tags,
      summary: "Workspaces of the tenant the caller can view",
      description: "Every workspace of the current tenant on which the caller has `view`, directly, through a group or from above.",
      response: { 200: WorkspaceListResponse },
    }),
    async (request) => {
      const workspaces = await service.list(callerOf(request), observationOf(request));
      return { workspaces: workspaces.map(workspaceResponse), count: workspaces.length };
    },
  );

  server.get(
    "/iam/workspaces/:workspace_id",
    tenantScoped({
      operationId: "getWorkspace",
      tags,
      summary: "One workspace",
      description: "404 when it does not exist or the caller cannot view it.",
      params: WorkspaceIdParams,
      response: { 200: WorkspaceResponse, ...errors(404) },
    }),
    async (request) => {
      const id = workspaceIdOf(request.params.workspace_id);
      return workspaceResponse(await service.get(callerOf(request), id, observationOf(request)));
    },
  );

  server.patch(
    "/iam/workspaces/:workspace_id",
    tenantScoped({
      operationId: "renameWorkspace",
      tags,
      summary: "Rename a workspace",
      description: `${MANAGE} 409 when a sibling already has the name.`,
      params: WorkspaceIdParams,
      body: RenameWorkspaceBody,
      response: { 200: answer(WorkspaceResponse, "Renamed"), ...errors(404, 409, 422) },
    }),
    async (request) => {
      const name = nameOr422("Workspace", request.body.name);
      const id = workspaceIdOf(request.params.workspace_id);
      return workspaceResponse(await service.rename(callerOf(request), id, name, observationOf(request)));
    },
  );

  server.delete(
    "/iam/workspaces/:workspace_id",
    tenantScoped({
      operationId: "deleteWorkspace",
      tags,
      summary: "Delete a workspace that is neither the root nor a parent",
      description: `${MANAGE} 409 for the root workspace and for a workspace with children.`,
      params: WorkspaceIdParams,
      response: { 204: noContent("Deleted"), ...errors(404, 409) },
    }),
    async (request, reply) => {
      const id = workspaceIdOf(request.params.workspace_id);
      await service.delete(callerOf(request), id, observationOf(request));
      return reply.code(204).send(null);
    },
  );

  server.post(
    "/iam/workspaces/:workspace_id/members",
    tenantScoped({
      operationId: "addWorkspaceMember",
      tags,
      summary: "Give a user or group a role on a workspace",
      description:
        `${MANAGE} Another role of the same member is replaced; the same role again is a success that changes nothing. ` +
        "By `email` only for users who are members of the tenant. Demoting the last admin is 409.",
      params: WorkspaceIdParams,
      body: AddWorkspaceMemberBody,
      response: { 201: answer(WorkspaceMemberResponse, "The member with the role"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const body = request.body;
      const email = emailOf(body.email);
      requireOneOf(body, "member_id", body.member_id, email);
      emailOnlyForUsers(body, body.member_type, email);
      const id = workspaceIdOf(request.params.workspace_id);
      const memberId = body.member_id == null ? null : memberIdOr400(body.member_id);
      const member = await service.addMember(
        callerOf(request),
        id,
        { memberId, email, memberType: body.member_type, role: body.role },
        observationOf(request),
      );
      return reply.code(201).send(workspaceMemberResponse(member));
    },
  );

  server.get(
    "/iam/workspaces/:workspace_id/members",
    tenantScoped({
      operationId: "listWorkspaceMembers",
      tags,
      summary: "Direct members of a workspace",
      description: "Users and groups with a role on this workspace itself; groups are not expanded, inherited roles not listed.",
      params: WorkspaceIdParams,
      response: { 200: WorkspaceMemberListResponse, ...errors(404) },
    }),
    async (request) => {
      const id = workspaceIdOf(request.params.workspace_id);
      const members = await service.listMembers(callerOf(request), id, observationOf(request));
      return members.map(workspaceMemberResponse);
    },
  );

  server.patch(
    "/iam/workspaces/:workspace_id/members/:member_id",
    tenantScoped({
      operationId: "changeWorkspaceMemberRole",
      tags,
      summary: "Change a member's role on a workspace",
      description: `${MANAGE} \`member_type\` says whether \`member_id\` is a user or a group. Demoting the last admin is 409.`,
      params: WorkspaceMemberParams,
      querystring: MemberTypeQuery,
      body: ChangeWorkspaceMemberBody,
      response: { 200: answer(WorkspaceMemberResponse, "The member with the new role"), ...errors(404, 409, 422) },
    }),
    async (request) => {
      const id = workspaceIdOf(request.params.workspace_id);
      const memberId = memberIdOr400(request.params.member_id);
      const member = await service.changeMemberRole(
        callerOf(request),
        id,
        { memberId, memberType: request.query.member_type },
        request.body.role,
        observationOf(request),
      );
      return workspaceMemberResponse(member);
    },
  );

  server.delete(
    "/iam/workspaces/:workspace_id/members/:member_id",
    tenantScoped({
      operationId: "removeWorkspaceMember",
      tags,
      summary: "Remove a member from a workspace",
      description: `${MANAGE} Never the last admin (409).`,
      params: WorkspaceMemberParams,
      querystring: MemberTypeQuery,
      response: { 204: noContent("Removed"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const id = workspaceIdOf(request.params.workspace_id);
      const memberId = memberIdOr400(request.params.member_id);
      await service.removeMember(callerOf(request), id, { memberId, memberType: request.query.member_type }, observationOf(request));
      return reply.code(204).send(null);
    },
  );
};
