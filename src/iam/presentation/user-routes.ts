/** `GET /iam/users?ids=a,b` or `?search=text` (contract 29), and `GET /iam/users/me`. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { HttpError, validationError } from "../../platform/http/http-error.js";
import { MAX_IDS_PER_LOOKUP, type UserService } from "../application/user-service.js";
import { EXAMPLE } from "./examples.js";
import { authenticatedUserOf, callerOf } from "./request-context.js";
import { IdsQuery, SearchQuery, USER_ID_MAX_LENGTH } from "./request-fields.js";
import { answer, currentTenantAware, errors, tenantScoped } from "./route-contract.js";

const UserProfileResponse = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
});
const UserListResponse = Type.Object(
  { users: Type.Array(UserProfileResponse), count: Type.Integer() },
  {
    description: "The matching members of the tenant",
    examples: [{ users: [{ id: EXAMPLE.userId, username: "alice", name: "Alice Liddell", email: "alice@example.com" }], count: 1 }],
  },
);

const CurrentUserResponse = answer(
  Type.Object(
    {
      ...UserProfileResponse.properties,
      tenant_id: Type.Union([Type.String(), Type.Null()], {
        description: "The current tenant: X-Tenant-ID, or the default tenant in single-tenant mode; null without either",
      }),
      tenant_role: Type.Union([Type.Literal("admin"), Type.Literal("member"), Type.Null()], {
        description: "The caller's role in the current tenant; null when not a member",
      }),
      api_key_id: Type.Union([Type.String(), Type.Null()], {
        description: "The API key the request authenticated with (the user is its creator); null for a token",
      }),
    },
    {
      examples: [
        {
          id: EXAMPLE.userId,
          username: "alice",
          name: "Alice Liddell",
          email: "alice@example.com",
          tenant_id: EXAMPLE.tenantId,
          tenant_role: "admin",
          api_key_id: null,
        },
      ],
    },
  ),
  "The caller's user and their role in the current tenant",
);

/** Comma-separated ids: trimmed, empty entries dropped, duplicates collapsed. */
export function parseIds(raw: string): string[] {
  return [...new Set(raw.split(",").map((id) => id.trim()).filter((id) => id !== ""))];
}

/** An id in the list longer than any user id: the list-shape 422 that names the field and the limit. */
function overLongId(ids: string) {
  return validationError([
    {
      type: "string_too_long",
      loc: ["query", "ids"],
      msg: `Each id should have at most ${USER_ID_MAX_LENGTH} characters`,
      input: ids,
      ctx: { max_length: USER_ID_MAX_LENGTH },
    },
  ]);
}

export const userRoutes: FastifyPluginAsyncTypebox<{ service: UserService }> = async (server, { service: users }) => {
  // A static path: find-my-way prefers it to any parametric `/iam/users/:id`, whatever the order.
  server.get(
    "/iam/users/me",
    currentTenantAware({
      operationId: "getCurrentUser",
      tags: ["users"],
      summary: "Who am I: the caller's user and their role in the current tenant",
      description:
        "The user the token names (an API key: the key's creator, and `api_key_id`), and `tenant_role` in the current " +
        "tenant: the one X-Tenant-ID names, else the default tenant in single-tenant mode (joined on first use, as by " +
        "every tenant route). A caller outside that tenant is answered `tenant_role: null`, not refused. An API key " +
        "acts in its own tenant.",
      response: { 200: CurrentUserResponse },
    }),
    async (request) => {
      const current = await users.current(authenticatedUserOf(request), request.currentTenantId);
      return { ...current.user, tenant_id: current.tenantId, tenant_role: current.tenantRole, api_key_id: current.apiKeyId };
    },
  );

  server.get(
    "/iam/users",
    tenantScoped({
      operationId: "lookupUsers",
      tags: ["users"],
      summary: "Look up users of the current tenant by ids or by a search text (exactly one of the two)",
      description: "Only members of the current tenant are found, admins included; anyone else is simply not in the answer.",
      querystring: Type.Object({ ids: Type.Optional(IdsQuery), search: Type.Optional(SearchQuery) }),
      response: { 200: UserListResponse, ...errors(422) },
    }),
    async (request) => {
      // Empty values count as absent. These 422s carry a string detail, as in the reference.
      const ids = request.query.ids || undefined;
      const search = request.query.search || undefined;
      if (ids !== undefined && search !== undefined) throw new HttpError(422, "ids and search are mutually exclusive");
      if (ids === undefined && search === undefined) throw new HttpError(422, "Either ids or search parameter is required");
      const caller = callerOf(request);
      let found;
      if (ids !== undefined) {
        const wanted = parseIds(ids);
        if (wanted.length > MAX_IDS_PER_LOOKUP) throw new HttpError(422, `Maximum ${MAX_IDS_PER_LOOKUP} IDs per request`);
        if (wanted.some((id) => [...id].length > USER_ID_MAX_LENGTH)) throw overLongId(ids);
        found = await users.findByIds(caller, wanted);
      } else {
        found = await users.search(caller, search as string);
      }
      return { users: found, count: found.length };
    },
  );
};
