/**
 * HTTP routes of groups (`/iam/groups`), keeping the reference contract (paths, fields, status
 * codes) except where DESIGN decides otherwise: invisible groups are 404 on every route, the last
 * admin is 409, same-role re-add is 201, adding by email works, unknown body fields are 422.
 */
import type { FastifyReply } from "fastify";
import { Type, type Static } from "typebox";
import type { HttpServer } from "../../platform/http/http-server.js";
import type { GroupDetails, GroupListing, GroupService, MemberReference } from "../application/group-service.js";
import type { GroupMember } from "../domain/group.js";
import { answering } from "./error-mapping.js";
import { GroupListBodies } from "./group-list-bodies.js";
import { requireOneOf } from "./member-body-rules.js";
import { callerOf } from "./request-context.js";
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
import { observationOf } from "./route-support.js";

const GroupMemberSchema = Type.Object({ user_id: Type.String(), role: GroupRoleSchema });
const GroupSchema = Type.Object({
  id: Type.String({ description: "ULID" }),
  name: Type.String(),
  members: Type.Array(GroupMemberSchema),
});
const Detail = Type.Object({ detail: Type.Unknown() });

const GroupNameBody = Type.Object({ name: nameField("Group") }, { additionalProperties: false });
const AddMemberBody = Type.Object(
  { user_id: Type.Optional(UserIdField), email: Type.Optional(EmailField), role: GroupRoleSchema },
  { additionalProperties: false },
);
const RoleBody = Type.Object({ role: GroupRoleSchema }, { additionalProperties: false });
const GroupParams = Type.Object({ group_id: ulidParameter("Group") });
const MemberParams = Type.Object({ group_id: ulidParameter("Group"), user_id: UserIdParameter });

const ERRORS = { 400: Detail, 403: Detail, 404: Detail, 409: Detail, 422: Detail };
const TAGS = ["groups"];

const groupIdOf = (raw: string): string => ulidOr400(raw, "Invalid group ID format");

/** Exactly one of user_id / email; a blank email counts as absent. */
function memberReferenceOf(body: Static<typeof AddMemberBody>): MemberReference {
  const email = emailOf(body.email);
  requireOneOf(body, "user_id", body.user_id, email);
  return body.user_id !== undefined ? { userId: body.user_id } : { email: email as string };
}

const memberBody = (member: GroupMember) => ({ user_id: member.userId, role: member.role });
const groupBody = (group: GroupDetails) => ({ id: group.id, name: group.name, members: group.members.map(memberBody) });

/**
 * Sends JSON that is already text. Fastify sends a string with a JSON content type as it is; the
 * schema's type only knows the object form, hence the cast.
 */
function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type("application/json; charset=utf-8").send(text as never);
}

export function registerGroupRoutes(server: HttpServer, groups: GroupService, listBodies = new GroupListBodies()): void {
  server.get(
    "/iam/groups",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "List the groups of the tenant the caller can view",
        response: { 200: Type.Array(GroupSchema) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const since = (known: number | null) => answering(() => groups.listGroupsSince(caller, known, observationOf(request)));
      let listing: GroupListing = await since(listBodies.versionOf(caller.tenantId));
      if (listing.kind === "unchanged") {
        const kept = listBodies.get(caller.tenantId, listing.version);
        if (kept !== undefined) return sendJsonText(reply, kept);
        listing = await since(null); // evicted meanwhile
      }
      if (listing.kind === "unchanged") throw new Error("an unconditional group listing answered 'unchanged'");
      const body = listing.groups.map(groupBody);
      if (listing.version === null) return body;
      // A whole-tenant list: keep its bytes for the next listing at the same version.
      const text = JSON.stringify(body);
      listBodies.put(caller.tenantId, listing.version, text);
      return sendJsonText(reply, text);
    },
  );

  server.post(
    "/iam/groups",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Create a group; the caller becomes its admin",
        body: GroupNameBody,
        response: { 201: GroupSchema, ...ERRORS },
      },
    },
    async (request, reply) => {
      const name = nameOr422("Group", request.body.name);
      const group = await answering(() => groups.createGroup(callerOf(request), name, observationOf(request)));
      return reply.code(201).send(groupBody(group));
    },
  );

  server.get(
    "/iam/groups/:group_id",
    {
      config: { auth: "tenant" },
      schema: { tags: TAGS, summary: "Get a group with its members", params: GroupParams, response: { 200: GroupSchema, ...ERRORS } },
    },
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      return groupBody(await answering(() => groups.getGroup(callerOf(request), groupId, observationOf(request))));
    },
  );

  server.patch(
    "/iam/groups/:group_id",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Rename a group (group admins)",
        params: GroupParams,
        body: GroupNameBody,
        response: { 200: GroupSchema, ...ERRORS },
      },
    },
    async (request) => {
      const name = nameOr422("Group", request.body.name);
      const groupId = groupIdOf(request.params.group_id);
      const group = await answering(() => groups.renameGroup(callerOf(request), groupId, name, observationOf(request)));
      return groupBody(group);
    },
  );

  server.delete(
    "/iam/groups/:group_id",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Delete a group and its workspace grants (group admins); 409 while it is a workspace's last admin",
        params: GroupParams,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      const groupId = groupIdOf(request.params.group_id);
      await answering(() => groups.deleteGroup(callerOf(request), groupId, observationOf(request)));
      return reply.code(204).send(null);
    },
  );

  server.post(
    "/iam/groups/:group_id/members",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Add a member by user_id or email, or replace their role (group admins)",
        params: GroupParams,
        body: AddMemberBody,
        response: { 201: GroupMemberSchema, ...ERRORS },
      },
    },
    async (request, reply) => {
      const who = memberReferenceOf(request.body);
      const groupId = groupIdOf(request.params.group_id);
      const target = "userId" in who ? { userId: userIdOr400(who.userId) } : who;
      const member = await answering(() =>
        groups.addMember(callerOf(request), groupId, target, request.body.role, observationOf(request)),
      );
      return reply.code(201).send(memberBody(member));
    },
  );

  server.get(
    "/iam/groups/:group_id/members",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "List a group's members",
        params: GroupParams,
        response: { 200: Type.Array(GroupMemberSchema), ...ERRORS },
      },
    },
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      const members = await answering(() => groups.listMembers(callerOf(request), groupId, observationOf(request)));
      return members.map(memberBody);
    },
  );

  server.patch(
    "/iam/groups/:group_id/members/:user_id",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Change a member's role (group admins)",
        params: MemberParams,
        body: RoleBody,
        response: { 200: GroupMemberSchema, ...ERRORS },
      },
    },
    async (request) => {
      const groupId = groupIdOf(request.params.group_id);
      const userId = userIdOr400(request.params.user_id);
      const member = await answering(() =>
        groups.changeMemberRole(callerOf(request), groupId, userId, request.body.role, observationOf(request)),
      );
      return memberBody(member);
    },
  );

  server.delete(
    "/iam/groups/:group_id/members/:user_id",
    {
      config: { auth: "tenant" },
      schema: {
        tags: TAGS,
        summary: "Remove a member (group admins)",
        params: MemberParams,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      const groupId = groupIdOf(request.params.group_id);
      const userId = userIdOr400(request.params.user_id);
      await answering(() => groups.removeMember(callerOf(request), groupId, userId, observationOf(request)));
      return reply.code(204).send(null);
    },
  );
}
