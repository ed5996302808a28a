/** Request and response schemas of the workspace routes (TypeBox; validation and OpenAPI from one source). */
import { Type, type Static } from "typebox";
import type { WorkspaceMember } from "../domain/workspace.js";
import type { WorkspaceRecord } from "../ports/workspace-repository.js";
import {
  EmailField,
  MemberIdField,
  MemberIdParameter,
  MemberTypeField as MemberTypeSchema,
  WorkspaceRoleField as Role,
  nameField,
  ulidField,
  ulidParameter,
} from "./request-fields.js";
import { EXAMPLE } from "./examples.js";
import { isoTimestamp } from "./timestamps.js";

const WorkspaceName = nameField("Workspace");

export const WorkspaceIdParams = Type.Object({ workspace_id: ulidParameter("Workspace") });
export const WorkspaceMemberParams = Type.Object({ workspace_id: ulidParameter("Workspace"), member_id: MemberIdParameter });
export const MemberTypeQuery = Type.Object({ member_type: MemberTypeSchema });

export const CreateWorkspaceBody = Type.Object(
  {
    name: WorkspaceName,
    parent_workspace_id: ulidField("The parent's ULID"),
  },
  { additionalProperties: false, examples: [{ name: "Data platform", parent_workspace_id: EXAMPLE.rootWorkspaceId }] },
);
export type CreateWorkspaceBody = Static<typeof CreateWorkspaceBody>;

export const RenameWorkspaceBody = Type.Object({ name: WorkspaceName }, { additionalProperties: false, examples: [{ name: "Analytics" }] });

export const AddWorkspaceMemberBody = Type.Object(
  {
    member_id: Type.Optional(Type.Union([MemberIdField, Type.Null()])),
    email: Type.Optional(Type.Union([EmailField, Type.Null()])),
    member_type: MemberTypeSchema,
    role: Role,
  },
  {
    additionalProperties: false,
    description: "Exactly one of member_id and email; email only for users",
    examples: [{ member_id: EXAMPLE.userId, member_type: "user", role: "editor" }],
  },
);
export type AddWorkspaceMemberBody = Static<typeof AddWorkspaceMemberBody>;

export const ChangeWorkspaceMemberBody = Type.Object({ role: Role }, { additionalProperties: false, examples: [{ role: "admin" }] });

const workspaceExample = {
  id: EXAMPLE.workspaceId,
  tenant_id: EXAMPLE.tenantId,
  name: "Data platform",
  parent_workspace_id: EXAMPLE.rootWorkspaceId,
  is_root: false,
  created_at: EXAMPLE.createdAt,
  updated_at: EXAMPLE.updatedAt,
};

export const WorkspaceResponse = Type.Object(
  {
    id: Type.String(),
    tenant_id: Type.String(),
    name: Type.String(),
    parent_workspace_id: Type.Union([Type.String(), Type.Null()]),
    is_root: Type.Boolean(),
    created_at: Type.String({ format: "date-time" }),
    updated_at: Type.String({ format: "date-time" }),
  },
  { description: "The workspace", examples: [workspaceExample] },
);
export type WorkspaceResponse = Static<typeof WorkspaceResponse>;

export const WorkspaceListResponse = Type.Object(
  { workspaces: Type.Array(WorkspaceResponse), count: Type.Integer() },
  { description: "The workspaces the caller can view", examples: [{ workspaces: [workspaceExample], count: 1 }] },
);

const memberExample = { member_id: EXAMPLE.userId, member_type: "user", role: "editor" };

export const WorkspaceMemberResponse = Type.Object(
  { member_id: Type.String(), member_type: MemberTypeSchema, role: Role },
  { description: "The member with their role", examples: [memberExample] },
);

export const WorkspaceMemberListResponse = Type.Array(WorkspaceMemberResponse, {
  description: "Direct members: users and groups",
  examples: [[memberExample, { member_id: EXAMPLE.groupId, member_type: "group", role: "member" }]],
});
export type WorkspaceMemberResponse = Static<typeof WorkspaceMemberResponse>;

export function workspaceResponse(workspace: WorkspaceRecord): WorkspaceResponse {
  return {
    id: workspace.id,
    tenant_id: workspace.tenantId,
    name: workspace.name,
    parent_workspace_id: workspace.parentWorkspaceId,
    is_root: workspace.isRoot,
    created_at: isoTimestamp(workspace.createdAt),
    updated_at: isoTimestamp(workspace.updatedAt),
  };
}

export function workspaceMemberResponse(member: WorkspaceMember): WorkspaceMemberResponse {
  return { member_id: member.memberId, member_type: member.memberType, role: member.role };
}
