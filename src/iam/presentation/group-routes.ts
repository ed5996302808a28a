/**
 * HTTP routes of groups (`/iam/groups`), keeping the reference contract (paths, fields, status
 * codes) except where DESIGN decides otherwise: invisible groups are 404 on every route, the last
 * admin is 409, same-role re-add is 201, adding by email works, unknown body fields are 422.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type, type Static } from "typebox";
import type { GroupDetails, GroupService, MemberReference } from "../application/group-service.js";
import type { GroupMember } from "../domain/group.js";
import { EXAMPLE } from "./examples.js";
import { requireOneOf } from "./member-body-rules.js";
import { callerOf, observationOf } from "./request-context.js";
import {
  EmailField,
  GroupRoleField as GroupRoleSchema,
  UserIdField,
  UserIdParameter,
  emailOf,
  nameField,
  nameOr422,
  ulidOr400,
  ulidParameter,
  userIdOr400,
} from "./request-fields.js";
import { answer, errors, noContent, tenantScoped } from "./route-contract.js";

const memberExample = { user_id: EXAMPLE.userId, role: "admin" };
const groupExample = { id: EXAMPLE.groupId, name: "Data engineers", members: [memberExample, { user_id: EXAMPLE.otherUserId, role: "member" }] };

const GroupMemberSchema = Type.Object(
  { user_id: Type.String(), role: GroupRoleSchema },
  { description: "The member with their role", examples: [memberExample] },
);
const GroupSchema = Type.Object(
  { id: Type.String({ description: "ULID" }), name: Type.String(), members: Type.Array(GroupMemberSchema) },
  { description: "The group with its members", examples: [groupExample] },
);

const GroupNameBody = Type.Object({ name: nameField("Group") }, { additionalProperties: false, examples: [{ name: "Data engineers" }] });
const AddMemberBody = Type.Object(
  { user_id: Type.Optional(UserIdField), email: Type.Optional(EmailField), role: GroupRoleSchema },
  { additionalProperties: false, description: "Exactly one of user_id and email", examples: [{ user_id: EXAMPLE.otherUserId, role: "member" }] },
);
const RoleBody = Type.Object({ role: GroupRoleSchema }, { additionalProperties: false, examples: [{ role: "admin" }] });
const GroupParams = Type.Object({ group_id: ulidParameter("Group") });
const MemberParams = Type.Object({ group_id: ulidParameter("Group"), user_id: UserIdParameter });

const tags = ["groups"];
const MANAGE = "Group admins only (403 for other members who can view the group).";

const groupIdOf = (raw: string): string => ulidOr400(raw, "Invalid group ID format");

/** Exactly one of user_id / email; a blank email counts as absent. */
function memberReferenceOf(body: Static<typeof AddMemberBody>): MemberReference {
  const email = emailOf(body.email);
  requireOneOf(body, "user_id", body.user_id, email);
  return body.user_id !== undefined ? { userId: body.user_id } : { email: email as string };
}

const memberBody = (member: GroupMember) => ({ user_id: member.userId, role: member.role });
const groupBody = (group: GroupDetails) => ({ id: group.id, name: group.name, members: group.members.map(memberBody) });

export const groupRoutes: FastifyPluginAsyncTypebox<{ service: GroupService }> = async (server, { service: groups }) => {
  // While a tenant's groups stay unchanged, the group repository hands out the same list object
  // (its kept lists): each such list is serialized once, 4 MiB of JSON for 100,000 members costing
  // more than the rest of the request. Weak: a list the repository no longer keeps takes its text
  // with it. Which list is current is decided in the repository alone.
  const serialized = new WeakMap<readonly GroupDetails[], string>();
  const bodyOf = (list: readonly GroupDetails[]): string => {
    let body = serialized.get(list);
    if (body === undefined) {
      body = JSON.stringify(list.map(groupBody));
      serialized.set(list, body);
    }
    return body;
  };

  server.get(
    "/iam/groups",
    tenantScoped({
      operationId: "listGroups",
      tags,
      summary: "List the groups of the tenant the caller can view",
      description: "Each group with its members.",
      response: { 200: Type.Array(GroupSchema, { description: "The groups the caller can view", examples: [[groupExample]] }) },
    }),
    async (request, reply) => {
      const body = bodyOf(await groups.listGroups(callerOf(request), observationOf(request)));
      // Text already: Fastify sends a string with a JSON content type as it is (the schema's type
      // knows only the object form, hence the cast).
      return reply.type("application/json; charset=utf-8").send(body as never);
    },
  );

  server.post(
    "/iam/groups",
    tenantScoped({
      operationId: "createGroup",
      tags,
      summary: "Create a group; the caller becomes its admin",
      description: "Any member of the tenant. Group names are unique in the tenant (409).",
      body: GroupNameBody,
      response: { 201: answer(GroupSchema, "Created"), ...errors(409, 422) },
    }),
    async (request, reply) => {
      const name = nameOr422("Group", request.body.name);
      const group = await groups.createGroup(callerOf(request), name, observationOf(request));
      return reply.code(201).send(groupBody(group));
    },
  );

  server.get(
    "/iam/groups/:group_id",
    tenantScoped({
      operationId: "getGroup",
      tags,
      summary: "Get a group with its members",
      description: "404 when it does not exist or the caller cannot view it.",
      params: GroupParams,
      response: { 200: GroupSchema, ...errors(404) },
    }),
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      return groupBody(await groups.getGroup(callerOf(request), groupId));
    },
  );

  server.patch(
    "/iam/groups/:group_id",
    tenantScoped({
      operationId: "renameGroup",
      tags,
      summary: "Rename a group",
      description: `${MANAGE} 409 when another group of the tenant has the name.`,
      params: GroupParams,
      body: GroupNameBody,
      response: { 200: answer(GroupSchema, "Renamed"), ...errors(404, 409, 422) },
    }),
    async (request) => {
      const name = nameOr422("Group", request.body.name);
      const groupId = groupIdOf(request.params.group_id);
      return groupBody(await groups.renameGroup(callerOf(request), groupId, name, observationOf(request)));
    },
  );

  server.delete(
    "/iam/groups/:group_id",
    tenantScoped({
      operationId: "deleteGroup",
      tags,
      summary: "Delete a group and its workspace grants",
      description: `${MANAGE} 409 while the group is a workspace's last admin.`,
      params: GroupParams,
      response: { 204: noContent("Deleted"), ...errors(404, 409) },
    }),
    async (request, reply) => {
      const groupId = groupIdOf(request.params.group_id);
      await groups.deleteGroup(callerOf(request), groupId, observationOf(request));
      return reply.code(204).send(null);
    },
  );

  server.post(
    "/iam/groups/:group_id/members",
    tenantScoped({
      operationId: "addGroupMember",
      tags,
      summary: "Add a member by user_id or email, or replace their role",
      description: `${MANAGE} The user must be a member of the tenant. The same role again is a success; demoting the last admin is 409.`,
      params: GroupParams,
      body: AddMemberBody,
      response: { 201: answer(GroupMemberSchema, "The member with the role"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const who = memberReferenceOf(request.body);
      const groupId = groupIdOf(request.params.group_id);
      const target = "userId" in who ? { userId: userIdOr400(who.userId) } : who;
      const member = await groups.addMember(callerOf(request), groupId, target, request.body.role, observationOf(request));
      return reply.code(201).send(memberBody(member));
    },
  );

  server.get(
    "/iam/groups/:group_id/members",
    tenantScoped({
      operationId: "listGroupMembers",
      tags,
      summary: "List a group's members",
      description: "404 when the group does not exist or the caller cannot view it.",
      params: GroupParams,
      response: { 200: Type.Array(GroupMemberSchema, { description: "The members", examples: [groupExample.members] }), ...errors(404) },
    }),
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      const members = await groups.listMembers(callerOf(request), groupId);
      return members.map(memberBody);
    },
  );

  server.patch(
    "/iam/groups/:group_id/members/:user_id",
    tenantScoped({
      operationId: "changeGroupMemberRole",
      tags,
      summary: "Change a member's role in a group",
      description: `${MANAGE} Demoting the last admin is 409.`,
      params: MemberParams,
      body: RoleBody,
      response: { 200: answer(GroupMemberSchema, "The member with the new role"), ...errors(404, 409, 422) },
    }),
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      const userId = userIdOr400(request.params.user_id);
      return memberBody(await groups.changeMemberRole(callerOf(request), groupId, userId, request.body.role, observationOf(request)));
    },
  );

  server.delete(
    "/iam/groups/:group_id/members/:user_id",
    tenantScoped({
      operationId: "removeGroupMember",
      tags,
      summary: "Remove a member from a group",
      description: `${MANAGE} Never the last admin (409).`,
      params: MemberParams,
      response: { 204: noContent("Removed"), ...errors(404, 409) },
    }),
    async (request, reply) => {
      const groupId = groupIdOf(request.params.group_id);
      const userId = userIdOr400(request.params.user_id);
      await groups.removeMember(callerOf(request), groupId, userId, observationOf(request));
      return reply.code(204).send(null);
    },
  );
};
