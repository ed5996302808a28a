/**
 * Access reviews: `GET /iam/workspaces/{workspace_id}/access` and `GET /iam/groups/{group_id}/access`
 * answer every user who can view the object, with their permissions and every path that grants them.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { AccessReview, UserAccess } from "../application/access-review.js";
import type { AccessPath } from "../ports/access-paths.js";
import { EXAMPLE } from "./examples.js";
import { callerOf } from "./request-context.js";
import { ulidOr400, ulidParameter } from "./request-fields.js";
import { answer, errors, tenantScoped } from "./route-contract.js";

const Via = Type.Union([
  Type.Object({ kind: Type.Literal("direct"), role: Type.String({ description: "The user's own role on the object" }) }),
  Type.Object({
    kind: Type.Literal("group"),
    group_id: Type.String(),
    group_name: Type.String(),
    role: Type.String({ description: "The group's role on the workspace" }),
    group_role: Type.String({ description: "The user's role in the group (both make them a member)" }),
  }),
  Type.Object({ kind: Type.Literal("tenant_admin") }),
]);
const UserAccessBody = Type.Object({
  user_id: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  permissions: Type.Array(Type.String(), { description: "Effective permissions, view first" }),
  via: Type.Array(Via, { description: "Every path that grants access" }),
});
const AccessBody = Type.Object(
  { users: Type.Array(UserAccessBody, { description: "By user id" }), count: Type.Integer() },
  {
    examples: [
      {
        users: [
          { user_id: EXAMPLE.userId, username: "alice", permissions: ["view", "edit", "manage", "create_child"], via: [{ kind: "direct", role: "admin" }, { kind: "tenant_admin" }] },
          {
            user_id: EXAMPLE.otherUserId,
            username: "bob",
            permissions: ["view", "edit", "create_child"],
            via: [{ kind: "group", group_id: EXAMPLE.groupId, group_name: "Engineering", role: "editor", group_role: "member" }],
          },
        ],
        count: 2,
      },
    ],
  },
);

function viaBody(path: AccessPath) {
  return path.kind === "group"
    ? { kind: path.kind, group_id: path.groupId, group_name: path.groupName, role: path.role, group_role: path.groupRole }
    : path;
}

function accessBody(users: readonly UserAccess[]) {
  return {
    users: users.map((user) => ({ user_id: user.userId, username: user.username, permissions: [...user.permissions], via: user.via.map(viaBody) })),
    count: users.length,
  };
}

export const accessReviewRoutes: FastifyPluginAsyncTypebox<{ service: AccessReview }> = async (server, { service }) => {
  server.get(
    "/iam/workspaces/:workspace_id/access",
    tenantScoped({
      operationId: "reviewWorkspaceAccess",
      tags: ["permissions"],
      summary: "Who can view a workspace, what they can do, and through what",
      description: "For those who manage the workspace and for the tenant's admins. Each user's paths: their own role, a group's role (with their role in the group), tenant admin.",
      params: Type.Object({ workspace_id: ulidParameter("Workspace") }),
      response: { 200: answer(AccessBody, "Every user who can view the workspace"), ...errors(403, 404) },
    }),
    async (request) => accessBody(await service.workspace(callerOf(request), ulidOr400(request.params.workspace_id, "Invalid workspace ID format"))),
  );

  server.get(
    "/iam/groups/:group_id/access",
    tenantScoped({
      operationId: "reviewGroupAccess",
      tags: ["permissions"],
      summary: "Who can view a group, what they can do, and through what",
      description: "For those who manage the group and for the tenant's admins. Each user's paths: their own role in the group, tenant admin.",
      params: Type.Object({ group_id: ulidParameter("Group") }),
      response: { 200: answer(AccessBody, "Every user who can view the group"), ...errors(403, 404) },
    }),
    async (request) => accessBody(await service.group(callerOf(request), ulidOr400(request.params.group_id, "Invalid group ID format"))),
  );
};
