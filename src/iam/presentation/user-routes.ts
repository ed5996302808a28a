/** `GET /iam/users?ids=a,b` or `?search=text` (contract 29). */
import { Type } from "typebox";
import type { HttpServer, RouteRegistrar } from "../../platform/http/http-server.js";
import { HttpError } from "../../platform/http/http-error.js";
import { MAX_IDS_PER_LOOKUP, type UserService } from "../application/user-service.js";
import { answering } from "./error-mapping.js";
import { callerOf } from "./request-context.js";

const UserProfileResponse = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
});
const UserListResponse = Type.Object({ users: Type.Array(UserProfileResponse), count: Type.Integer() });

const security: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }];

/** Comma-separated ids: trimmed, empty entries dropped, duplicates collapsed. */
export function parseIds(raw: string): string[] {
  return [...new Set(raw.split(",").map((id) => id.trim()).filter((id) => id !== ""))];
}

export function userRoutes(users: UserService): RouteRegistrar {
  return (server: HttpServer) => {
    server.get(
      "/iam/users",
      {
        config: { auth: "tenant" },
        schema: {
          tags: ["users"],
          summary: "Look up users of the current tenant by ids or by a search text (exactly one of the two)",
          security,
          querystring: Type.Object({ ids: Type.Optional(Type.String()), search: Type.Optional(Type.String()) }),
          response: { 200: UserListResponse, 422: Type.Object({ detail: Type.Unknown() }) },
        },
      },
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
          found = await answering(() => users.findByIds(caller, wanted));
        } else {
          found = await answering(() => users.search(caller, search as string));
        }
        return { users: found, count: found.length };
      },
    );
  };
}
