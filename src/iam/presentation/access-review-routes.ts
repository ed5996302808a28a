/**
 * Access reviews: `GET /iam/workspaces/{workspace_id}/access` and `GET /iam/groups/{group_id}/access`
 * answer every user who can view the object, with their permissions and every path that grants them.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type, type Static } from "typebox";
import type { AccessReview, ExplainedPath, UserAccess } from "../application/access-review.js";
import type { AccessPath } from "../ports/access-paths.js";
import { EXAMPLE } from "./examples.js";
import { callerOf } from "./request-context.js";
import { validationError } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import { notUlidIssue, permissionIssue, subjectQueryIssue } from "./permission-fields.js";
import { UserIdField, ulidOr400, ulidParameter, userIdOr400 } from "./request-fields.js";
import { answer, errors, tenantScoped } from "./route-contract.js";

/**
 * One object shape with optional fields rather than a union per kind: a union makes the response
 * serializer validate every path against each branch, which dominated a review of 5,000 users.
 */
const viaSchema = <K extends string>(kinds: readonly K[]) =>
  Type.Object({
    kind: Type.Enum([...kinds], { description: "direct: the user's own role; group: a group's role; tenant_admin; tenant_member (explain only)" }),
    role: Type.Optional(Type.String({ description: "direct and group: the role on the object (for a group, the group's)" })),
    group_id: Type.Optional(Type.String()),
    group_name: Type.Optional(Type.String()),
    group_role: Type.Optional(Type.String({ description: "group: the user's role in the group (both make them a member)" })),
  });
const Via = viaSchema(["direct", "group", "tenant_admin"] as const);
const ExplainedVia = viaSchema(["direct", "group", "tenant_admin", "tenant_member"] as const);
const EXPLAINED_TYPES = ["tenant", "workspace", "group"] as const;
const ExplainQuery = Type.Object({
  resource_type: Type.Enum([...EXPLAINED_TYPES], { description: "The kind of IAM object" }),
  resource_id: Type.String({ minLength: 1, maxLength: 26, description: "The object's ULID" }),
  permission: Type.String({ minLength: 1, maxLength: 64, description: "A permission of the resource type (as for /iam/permissions/check)" }),
  subject_type: Type.Optional(Type.Literal("user", { description: "With subject_id: whom to explain (default the caller; another user needs tenant admin)" })),
  subject_id: Type.Optional(UserIdField),
});
const ExplanationBody = Type.Object(
  {
    allowed: Type.Boolean(),
    paths: Type.Array(ExplainedVia, { description: "Every path that grants the permission (empty when denied)" }),
    would_grant: Type.Union([Type.String(), Type.Null()], { description: "When denied: what would grant it" }),
  },
  {
    examples: [{ allowed: true, paths: [{ kind: "group", group_id: EXAMPLE.groupId, group_name: "Engineering", role: "editor", group_role: "member" }], would_grant: null }],
  },
);
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

function viaBody(path: AccessPath): Static<typeof Via>;
function viaBody(path: ExplainedPath): Static<typeof ExplainedVia>;
function viaBody(path: ExplainedPath): Static<typeof ExplainedVia> {
  return path.kind === "group"
    ? { kind: path.kind, group_id: path.groupId, group_name: path.groupName, role: path.role, group_role: path.groupRole }
    : path;
}

function accessBody(users: readonly UserAccess[]) {
  return {
    users: users.map((user) => ({ user_id: user.userId, username: user.username, permissions: [...user.permissions], via: user.via.map((path) => viaBody(path)) })),
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

  server.get(
    "/iam/permissions/explain",
    tenantScoped({
      operationId: "explainPermission",
      tags: ["permissions"],
      summary: "Why a user has, or has not, a permission on a tenant, workspace or group",
      description:
        "Every path that grants it (a direct role, a group's role with the user's role in the group, tenant admin, tenant membership), or, when denied, what would grant it. Tenant admins may explain anyone's decisions; others their own, on objects they reach.",
      querystring: ExplainQuery,
      response: { 200: answer(ExplanationBody, "The decision and its reasons"), ...errors(403, 404, 422) },
    }),
    async (request) => {
      const query = request.query;
      const id = normaliseUlid(query.resource_id);
      const issues = [
        id === null ? notUlidIssue(query.resource_id, ["query", "resource_id"]) : null,
        permissionIssue(query.resource_type, query.permission, ["query", "permission"]),
        subjectQueryIssue(query),
      ].filter((issue) => issue !== null);
      if (issues.length > 0 || id === null) throw validationError(issues);
      const subjectId = query.subject_id === undefined ? undefined : userIdOr400(query.subject_id);
      const explanation = await service.explain(callerOf(request), { type: query.resource_type, id }, query.permission, subjectId);
      return { allowed: explanation.allowed, paths: explanation.paths.map(viaBody), would_grant: explanation.wouldGrant };
    },
  );
};
