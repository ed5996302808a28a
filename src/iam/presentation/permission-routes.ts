/**
 * Asking permission questions over HTTP, in the current tenant: `POST /iam/permissions/check`
 * (1-100 checks in one call) and `GET /iam/permissions/resources` (what the subject can access).
 * A permission the resource type does not have, or a malformed id, is a 422 naming the field.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { validationError, type ValidationIssue } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import {
  MAX_CHECKS_PER_REQUEST,
  QUESTION_PERMISSIONS,
  type PermissionQuestions,
  type QuestionResourceType,
} from "../application/permission-questions.js";
import { EXAMPLE } from "./examples.js";
import { notUlidIssue, permissionIssue, subjectQueryIssue } from "./permission-fields.js";
import { callerOf } from "./request-context.js";
import { ULID_LENGTH, UserIdField, userIdOr400 } from "./request-fields.js";
import { answer, errors, tenantScoped } from "./route-contract.js";

const RESOURCE_TYPES = Object.keys(QUESTION_PERMISSIONS) as QuestionResourceType[];
const PERMISSION_LIST = RESOURCE_TYPES.map((type) => `${type}: ${QUESTION_PERMISSIONS[type].join(", ")}`).join("; ");

const ResourceTypeField = Type.Enum(RESOURCE_TYPES, { description: "The kind of IAM object" });
const PermissionField = Type.String({ minLength: 1, maxLength: 64, description: `A permission of the resource type (${PERMISSION_LIST})` });
const Subject = Type.Object(
  {
    type: Type.Literal("user", { description: "Subjects are users (an API key acts for its creator)" }),
    id: UserIdField,
  },
  { additionalProperties: false, description: "Whom to ask about; default the caller. Another user needs tenant admin and must be a member of the tenant." },
);

const CheckItem = Type.Object({
  resource_type: ResourceTypeField,
  resource_id: Type.String({ minLength: 1, maxLength: ULID_LENGTH, description: "The object's ULID (for a tenant: its id)" }),
  permission: PermissionField,
}, { additionalProperties: false });
const CheckRequest = Type.Object(
  {
    checks: Type.Array(CheckItem, { minItems: 1, maxItems: MAX_CHECKS_PER_REQUEST, description: `1 to ${MAX_CHECKS_PER_REQUEST} checks` }),
    subject: Type.Optional(Subject),
  },
  {
    additionalProperties: false,
    examples: [
      {
        checks: [
          { resource_type: "workspace", resource_id: EXAMPLE.workspaceId, permission: "edit" },
          { resource_type: "group", resource_id: EXAMPLE.groupId, permission: "manage" },
        ],
        subject: { type: "user", id: EXAMPLE.otherUserId },
      },
    ],
  },
);
const CheckResult = Type.Object({
  resource_type: ResourceTypeField,
  resource_id: Type.String(),
  permission: Type.String(),
  allowed: Type.Boolean({ description: "False too for an object of another tenant or none at all" }),
});
const CheckResponse = Type.Object(
  { results: Type.Array(CheckResult, { description: "In the order of the request's checks" }) },
  {
    examples: [
      {
        results: [
          { resource_type: "workspace", resource_id: EXAMPLE.workspaceId, permission: "edit", allowed: true },
          { resource_type: "group", resource_id: EXAMPLE.groupId, permission: "manage", allowed: false },
        ],
      },
    ],
  },
);

const ResourcesQuery = Type.Object({
  resource_type: ResourceTypeField,
  permission: PermissionField,
  subject_type: Type.Optional(Type.Literal("user", { description: "With subject_id: whom to ask about (default the caller)" })),
  subject_id: Type.Optional(UserIdField),
});
const ResourcesResponse = Type.Object(
  { resource_ids: Type.Array(Type.String(), { description: "Sorted" }), count: Type.Integer() },
  { examples: [{ resource_ids: [EXAMPLE.rootWorkspaceId, EXAMPLE.workspaceId], count: 2 }] },
);

export const permissionRoutes: FastifyPluginAsyncTypebox<{ service: PermissionQuestions }> = async (server, { service }) => {
  server.post(
    "/iam/permissions/check",
    tenantScoped({
      operationId: "checkPermissions",
      tags: ["permissions"],
      summary: "Check up to 100 permissions at once",
      description:
        "Answers each check in request order, for the caller (an API key: its creator) or, for tenant admins, another member of the tenant. Objects outside the current tenant, or that do not exist, are `allowed: false`. As fresh as every other check: a change that returned before this request is in effect.",
      body: CheckRequest,
      response: { 200: answer(CheckResponse, "One result per check"), ...errors(403, 404, 422) },
    }),
    async (request) => {
      const { checks, subject } = request.body;
      const issues: ValidationIssue[] = [];
      const resolved = checks.map((check, index) => {
        const id = normaliseUlid(check.resource_id);
        if (id === null) {
          issues.push(notUlidIssue(check.resource_id, ["body", "checks", index, "resource_id"]));
        }
        const issue = permissionIssue(check.resource_type, check.permission, ["body", "checks", index, "permission"]);
        if (issue !== null) issues.push(issue);
        return { resource: { type: check.resource_type, id: id ?? "" }, permission: check.permission };
      });
      if (issues.length > 0) throw validationError(issues);
      const subjectId = subject === undefined ? undefined : userIdOr400(subject.id);
      const allowed = await service.check(callerOf(request), resolved, subjectId);
      return {
        results: checks.map((check, index) => ({
          resource_type: check.resource_type,
          resource_id: check.resource_id,
          permission: check.permission,
          allowed: allowed[index] === true,
        })),
      };
    },
  );

  server.get(
    "/iam/permissions/resources",
    tenantScoped({
      operationId: "lookupPermittedResources",
      tags: ["permissions"],
      summary: "The current tenant's objects of a type on which the subject has a permission",
      description:
        "For the caller (an API key: its creator) or, for tenant admins, another member of the tenant named by `subject_type=user&subject_id=...`. Only the current tenant's objects are listed.",
      querystring: ResourcesQuery,
      response: { 200: answer(ResourcesResponse, "The ids of the objects"), ...errors(403, 404, 422) },
    }),
    async (request) => {
      const query = request.query;
      const issue = permissionIssue(query.resource_type, query.permission, ["query", "permission"]);
      if (issue !== null) throw validationError([issue]);
      const subjectIssue = subjectQueryIssue(query);
      if (subjectIssue !== null) throw validationError([subjectIssue]);
      const subjectId = query.subject_id === undefined ? undefined : userIdOr400(query.subject_id);
      const ids = await service.resources(callerOf(request), query.resource_type, query.permission, subjectId);
      return { resource_ids: ids, count: ids.length };
    },
  );
};
